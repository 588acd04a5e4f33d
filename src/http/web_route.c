/* SPDX-License-Identifier: Apache-2.0
 *
 * http/web_route.c - the dashboard: GET and HEAD of / (and /index.html), the page, and of
 * /assets/NAME, its bundled script, style, fonts and images, all built into the binary
 * (tansiq/web.h). No authentication: they hold no data, only the code that asks the JSON API.
 *
 * Each answer carries a strong ETag (SHA-256 of the bytes) and is 304 when If-None-Match
 * names it; the hashed asset names are cached for a year (immutable), the page is revalidated
 * every time (no-cache), so a new build reaches every browser at its next visit. The gzip
 * form made at build time is sent to a client that accepts gzip, with Vary. Every answer,
 * refusals included, carries the security headers of docs/internals/web.md: a strict
 * Content-Security-Policy (the configured tile origin is the only outside origin), nosniff,
 * no referrer, no framing, HSTS.
 */
#include <string.h>

#include "http/http.h"

#define IMMUTABLE "public, max-age=31536000, immutable"

static void security_headers(const struct tq__http_req *rq, struct tq__http_resp *resp)
{
    tq__http_resp_header(resp, "Content-Security-Policy", rq->srv->csp);
    tq__http_resp_header(resp, "Referrer-Policy", "no-referrer");
    tq__http_resp_header(resp, "X-Frame-Options", "DENY");
    tq__http_resp_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

/* The asset a target names: the page for / and /index.html, NAME under /assets/. */
static const struct tq_web_asset *asset_of(const struct tq__http_req *rq)
{
    const char *t = rq->target;
    size_t n = strcspn(t, "?#");
    const struct tq_web_asset *a;

    if ((n == 1 && t[0] == '/') || (n == 11 && memcmp(t, "/index.html", 11) == 0))
        return tq_web_asset_find(TQ_STR("index.html"));
    if (n <= 8 || memcmp(t, "/assets/", 8) != 0)
        return NULL;
    a = tq_web_asset_find((struct tq_str){t + 8, n - 8});
    /* Only content-hashed names live under /assets/; the page is at /. */
    return a && a->immutable ? a : NULL;
}

static void web_complete(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    const struct tq_web_asset *a = asset_of(rq);
    const char *inm, *ae;
    size_t inm_len, ae_len;
    bool gz;

    security_headers(rq, resp);
    if (!a) {
        tq__http_resp_text(resp, 404, "no such page or asset");
        return;
    }
    resp->gzip = false; /* stored precompressed, or not worth it */
    resp->cache_control = a->immutable ? IMMUTABLE : "no-cache";
    tq__http_resp_header(resp, "ETag", a->etag);
    if (a->gz)
        tq__http_resp_header(resp, "Vary", "Accept-Encoding");
    inm = tq__http_req_header(rq, "If-None-Match", &inm_len);
    if (tq_web_etag_matches(inm, inm_len, a->etag)) {
        resp->status = 304;
        return;
    }
    ae = tq__http_req_header(rq, "Accept-Encoding", &ae_len);
    gz = a->gz && ae && tq__http_accepts_gzip(ae, ae_len);
    resp->status = 200;
    resp->media_type = a->content_type;
    if (gz)
        tq__http_resp_header(resp, "Content-Encoding", "gzip");
    if (tq_buf_append(&resp->body, gz ? a->gz : a->data, gz ? a->gz_len : a->len) != TQ_OK) {
        tq_buf_reset(&resp->body);
        resp->status = 503;
    }
}

static void web_refusal(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    security_headers(rq, resp);
    tq__http_resp_text(resp, (unsigned)rq->err_status, rq->err_desc);
}

#define WEB_ROUTE(p, m)                                                                            \
    {                                                                                              \
        .path = (p), .match = (m), .methods = TQ_METHOD_GET | TQ_METHOD_HEAD,                      \
        .allow = "GET, HEAD", .method_refusal = "the dashboard's pages are read with GET",         \
        .auth = TQ_HTTP_AUTH_NONE, .max_body_bytes = 1, .too_big = "no request body here",         \
        .complete = web_complete, .refusal = web_refusal,                                          \
    }

const struct tq__http_route tq__http_route_web_root = WEB_ROUTE("/", TQ_HTTP_MATCH_PATH);
const struct tq__http_route tq__http_route_web_index = WEB_ROUTE("/index.html", TQ_HTTP_MATCH_PATH);
const struct tq__http_route tq__http_route_web_assets = WEB_ROUTE("/assets/", TQ_HTTP_MATCH_PREFIX);
