/* SPDX-License-Identifier: Apache-2.0
 *
 * http/psi.c - private set intersection over the partners' mutual TLS, under /psi/v1/:
 *
 *   POST /psi/v1/request?list=NAME   a REQUEST message (application/octet-stream); the answer
 *                                    is the RESPONSE message
 *   POST /psi/v1/final               the FINAL message; 204 once concluded
 *
 * Only a partner node, authenticated by its pinned client certificate, may call them; users
 * get 403 whatever their credentials. The route is transport only: the node's responder
 * (tq_server_config.psi, in src/sync/psi_responder.c) checks the grant, the rate limit and the
 * list, runs the protocol and writes the audit leaf. A body is capped at
 * TQ_PSI_NET_BODY_MAX, which the responder's message limits match.
 */
#include <string.h>

#include "http/http.h"
#include "tansiq/psi.h"

#define PSI_PREFIX "/psi/v1/"
#define PSI_MEDIA "application/octet-stream"

static void psi_refusal(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    tq__http_resp_text(resp, (unsigned)rq->err_status, rq->err_desc);
}

bool tq__http_psi_list(struct tq_str query, char out[65])
{
    size_t n;

    if (query.len < 6 || memcmp(query.ptr, "list=", 5) != 0)
        return false;
    n = query.len - 5;
    if (n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = query.ptr[5 + i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return false;
    }
    memcpy(out, query.ptr + 5, n);
    out[n] = '\0';
    return true;
}

/* The path after the prefix, without the query. */
static bool path_is(const struct tq__http_req *rq, const char *leaf)
{
    const char *t = rq->target + strlen(PSI_PREFIX);
    size_t n = strlen(leaf);

    return strncmp(rq->target, PSI_PREFIX, strlen(PSI_PREFIX)) == 0 && strncmp(t, leaf, n) == 0 &&
           (t[n] == '\0' || t[n] == '?');
}

static void psi_headers(struct tq__http_req *rq)
{
    const char *ct;
    size_t ct_len = 0;

    if (!rq->srv->psi.request || !rq->srv->psi.final ||
        !(path_is(rq, "request") || path_is(rq, "final"))) {
        tq__http_req_fail(rq, 404, "no such resource");
        return;
    }
    ct = tq__http_req_header(rq, "Content-Type", &ct_len);
    if (!ct || ct_len != strlen(PSI_MEDIA) || strncasecmp(ct, PSI_MEDIA, ct_len) != 0) {
        tq__http_req_fail(rq, 415, "psi messages are " PSI_MEDIA);
        return;
    }
    tq__http_req_want_body(rq);
}

/* The status of a responder's code; the text of a refusal is the responder's own. */
static unsigned status_of(tq_rc rc)
{
    switch (rc) {
    case TQ_EFORBIDDEN:
        return 403;
    case TQ_EBUSY:
        return 429;
    case TQ_ENOTFOUND:
        return 404;
    case TQ_EINVAL:
        return 400;
    case TQ_ETOOBIG:
        return 413;
    case TQ_EUNPROCESSABLE:
        return 422;
    default:
        return 500;
    }
}

static void psi_complete(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct tq_str body = {rq->body.ptr ? rq->body.ptr : "", rq->body.len};
    const char *partner = tq__principal_partner(&rq->who);
    struct tq_err err = {0};
    char list[65];
    tq_rc rc;

    if (!partner) {
        tq__http_resp_text(resp, 403, "psi is answered to partner nodes only");
        return;
    }
    if (path_is(rq, "request")) {
        if (!tq__http_psi_list(rq->query, list)) {
            tq__http_resp_text(resp, 400, "psi: the request names its list as ?list=NAME");
            return;
        }
        rc = rq->srv->psi.request(rq->srv->psi.ud, partner, list, body, &resp->body, &err);
        if (rc == TQ_OK) {
            resp->status = 200;
            resp->media_type = PSI_MEDIA;
            resp->gzip = false; /* random points do not compress */
            return;
        }
    } else {
        rc = rq->srv->psi.final(rq->srv->psi.ud, partner, body, &err);
        if (rc == TQ_OK) {
            resp->status = 204;
            return;
        }
    }
    tq_buf_reset(&resp->body);
    tq__http_resp_text(resp, status_of(rc), err.msg[0] ? err.msg : tq_rc_str(rc));
}

const struct tq__http_route tq__http_route_psi = {
    .path = "/psi/",
    .match = TQ_HTTP_MATCH_PREFIX,
    .methods = TQ_METHOD_POST,
    .allow = "POST",
    .method_refusal = "psi messages are POSTed",
    .auth = TQ_HTTP_AUTH_PARTNER,
    .auth_refusal = "psi is answered to partner nodes only, authenticated by their pinned client "
                    "certificate",
    .max_body_bytes = TQ_PSI_NET_BODY_MAX,
    .too_big = "the psi message exceeds this node's limit",
    .headers = psi_headers,
    .complete = psi_complete,
    .refusal = psi_refusal,
};
