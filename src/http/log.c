/* SPDX-License-Identifier: Apache-2.0
 *
 * http/log.c - the audit log over HTTP as C2SP tlog-tiles, under /log/ and without
 * authentication: its entries are salted commitments that reveal nothing without their
 * openings, and anyone (partners, witnesses, standard tlog tools) may check that the log only
 * grows.
 *
 *   GET /log/checkpoint                  the latest signed checkpoint (a fresh one is signed
 *                                        when the log grew, at most once a second)
 *   GET /log/tile/<L>/<N>[.p/<W>]        hash tiles
 *   GET /log/tile/entries/<N>[.p/<W>]    entry bundles: per entry a 2-byte big-endian length
 *                                        and the leaf's 32-byte commitment
 *   POST /log/add-checkpoint             c2sp.org/tlog-witness: a partner asks this node to
 *                                        cosign its checkpoint (witness.h decides)
 *   GET /log/openings?from=N             the openings of the leaves naming the calling partner,
 *                                        below the latest checkpoint; partners only (mTLS)
 *
 * Tiles are served only within the latest checkpoint (404 beyond it), whichever process signed
 * it: `tansiq sync` and `tansiq log checkpoint` sign in their own processes, so each request
 * reads the latest from the store, and the tree catches up with it before answering
 * (tq_audit_checkpoint_size). Full tiles never change: they are cacheable forever. Paths must be
 * in the canonical form tq_merkle_tile_path writes. add-checkpoint needs no authentication
 * either, as in the witness spec: the checkpoint must be signed by the key of a registered
 * partner whose log has its origin (404 otherwise).
 */
#include <inttypes.h>
#include <string.h>

#include <microhttpd.h>
#include <sodium.h>

#include "http/http.h"
#include "tansiq/audit.h"
#include "tansiq/witness.h"

#define CHECKPOINT_MIN_INTERVAL_MS 1000

/* Three decimal digits at s. */
static bool digits3(const char *s, unsigned *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9')
        return false;
    *out = (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 + (unsigned)(s[2] - '0');
    return true;
}

/* A small decimal number without leading zeros, at most max. */
static bool small_number(const char **p, unsigned max, unsigned *out)
{
    const char *s = *p;
    unsigned n = 0;

    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        n = n * 10 + (unsigned)(*s - '0');
        if (n > max)
            return false;
    }
    *p = s;
    *out = n;
    return true;
}

bool tq__http_log_path(const char *path, struct tq__http_log_req *out)
{
    char canon[TQ_MERKLE_TILE_PATH_MAX];
    struct tq__http_log_req r = {0};
    const char *s = path, *index_start;
    unsigned level = 0, d;
    uint64_t n = 0;

    if (strcmp(path, "checkpoint") == 0) {
        out->kind = TQ__LOG_CHECKPOINT;
        return true;
    }
    if (strncmp(s, "tile/", 5) != 0)
        return false;
    s += 5;
    if (strncmp(s, "entries/", 8) == 0) {
        r.kind = TQ__LOG_ENTRIES;
        s += 8;
    } else {
        r.kind = TQ__LOG_TILE;
        if (!small_number(&s, 63, &level) || *s != '/')
            return false;
        s++;
    }
    index_start = s;
    for (;;) {
        bool more = *s == 'x';

        if (more)
            s++;
        if (!digits3(s, &d) || n > (UINT64_MAX - d) / 1000)
            return false;
        n = n * 1000 + d;
        s += 3;
        if (!more)
            break;
        if (*s != '/')
            return false;
        s++;
    }
    r.width = TQ_MERKLE_TILE_WIDTH;
    if (strncmp(s, ".p/", 3) == 0) {
        s += 3;
        if (!small_number(&s, TQ_MERKLE_TILE_WIDTH - 1, &r.width) || r.width == 0)
            return false;
    }
    if (*s)
        return false;
    /* Only the canonical spelling: the path tq_merkle_tile_path writes for (level, n, width). */
    tq_merkle_tile_path(level, n, r.width, canon);
    s = strchr(canon + 5, '/');
    if (!s || strncmp(s + 1, index_start, strlen(s + 1)) != 0 ||
        strlen(s + 1) != strlen(index_start))
        return false;
    r.level = level;
    r.index = n;
    *out = r;
    return true;
}

/* Exchange two buffers: an answer built elsewhere becomes the response's body. */
static void body_swap(struct tq_buf *a, struct tq_buf *b)
{
    struct tq_buf t = *a;

    *a = *b;
    *b = t;
}

/* A /log/ answer: readable from any origin (public data for tlog tools in browsers). */
static void log_resp(struct tq__http_resp *resp, unsigned status, const char *type,
                     const char *cache)
{
    resp->status = status;
    resp->media_type = type;
    resp->cache_control = cache;
    tq__http_resp_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
}

/* A plain-text answer under /log/ (a refusal, mostly): the text and a newline. */
static void log_text(struct tq__http_resp *resp, unsigned status, const char *text)
{
    tq__http_resp_text(resp, status, text);
    log_resp(resp, status, resp->media_type, "no-store");
}

static void log_refusal(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    log_text(resp, (unsigned)rq->err_status, rq->err_desc);
}

/* ---- POST /log/add-checkpoint (c2sp.org/tlog-witness) ------------------------------------ */

static void add_headers(struct tq__http_req *rq)
{
    if (!rq->srv->witness) {
        tq__http_req_fail(rq, 404, "this node witnesses no log");
        return;
    }
    tq__http_req_want_body(rq);
}

static void add_complete(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct tq_str body = {rq->body.ptr ? rq->body.ptr : "", rq->body.len};
    struct tq_store *store = rq->srv->taxii.store;
    const struct tq_note_signer *witness = rq->srv->witness;
    struct tq_witness_answer ans;
    struct tq_err err = {0};
    tq_rc rc;

    if (!store || !witness) {
        log_text(resp, 404, "this node witnesses no log");
        return;
    }
    tq_witness_answer_init(&ans);
    rc = tq_witness_add_checkpoint(store, witness, body, (uint64_t)(tq_time_now_us() / 1000000),
                                   &ans, &err);
    if (rc) {
        /* The status of rc: a replica cannot keep the state (503, as every write there), nor a
         * store that is restarting (busy, 503: the partner asks again). */
        tq_witness_answer_cleanup(&ans);
        tq_log(TQ_LOG_ERROR, "http: add-checkpoint rc=%s: %s", tq_rc_name(rc), err.msg);
        log_text(resp, (unsigned)tq_rc_http_status(rc), tq_rc_str(rc));
        return;
    }
    tq_log(TQ_LOG_DEBUG, "http: add-checkpoint status=%d size=%" PRIu64 " alarm=%d", ans.status,
           ans.size, ans.alarm);
    log_resp(resp, (unsigned)ans.status,
             ans.status == 409 ? "text/x.tlog.size" : "text/plain; charset=utf-8", "no-store");
    body_swap(&resp->body, &ans.body);
    tq_witness_answer_cleanup(&ans);
}

const struct tq__http_route tq__http_route_log_add = {
    .path = "/log/add-checkpoint",
    .match = TQ_HTTP_MATCH_TARGET,
    .methods = TQ_METHOD_POST,
    .allow = "POST",
    .method_refusal = "add-checkpoint takes POST only",
    .auth = TQ_HTTP_AUTH_NONE, /* the checkpoint's signature by a partner's key decides */
    .max_body_bytes = TQ_WITNESS_BODY_MAX,
    .too_big = "the request body exceeds the add-checkpoint limit",
    .headers = add_headers,
    .complete = add_complete,
    .refusal = log_refusal,
};

/* ---- GET /log/checkpoint, tiles and entry bundles --------------------------------------- */

static void serve_checkpoint(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct tq_err err = {0};
    char *note = NULL;
    tq_rc rc;

    rc = tq_audit_checkpoint_fresh(rq->srv->audit, rq->srv->log_signer, CHECKPOINT_MIN_INTERVAL_MS,
                                   &note, &err);
    if (rc) {
        tq_log(TQ_LOG_ERROR, "http: log checkpoint: %s", err.msg);
        log_text(resp, (unsigned)tq_rc_http_status(rc), tq_rc_str(rc));
        return;
    }
    tq_buf_append_c(&resp->body, note);
    tq_free(note);
    log_resp(resp, 200, "text/plain; charset=utf-8", "no-cache");
}

static void log_complete(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct tq_audit_log *log = rq->srv->audit;
    const char *path = rq->target + 5; /* after "/log/" */
    struct tq__http_log_req lr;
    struct tq_err err = {0};
    struct tq_buf body;
    uint64_t size = 0;
    tq_rc rc;

    if (!log || !rq->srv->log_signer) {
        log_text(resp, 404, "this node keeps no audit log");
        return;
    }
    if (!tq__http_log_path(path, &lr)) {
        log_text(resp, 404, "no such log resource");
        return;
    }
    if (lr.kind == TQ__LOG_CHECKPOINT) {
        serve_checkpoint(rq, resp);
        return;
    }
    rc = tq_audit_checkpoint_size(log, &size, &err);
    if (rc == TQ_ENOTFOUND) {
        log_text(resp, 404, "no checkpoint yet");
        return;
    }
    if (rc) {
        tq_log(TQ_LOG_ERROR, "http: log tile: %s", err.msg);
        log_text(resp, 500, tq_rc_str(rc));
        return;
    }
    tq_buf_init(&body, TQ_MERKLE_TILE_WIDTH * 34);
    if (lr.kind == TQ__LOG_ENTRIES)
        rc = tq_audit_entries(log, size, lr.index, lr.width, &body, &err);
    else
        rc = tq_audit_tile(log, size, lr.level, lr.index, lr.width, &body, &err);
    if (rc == TQ_ENOTFOUND) {
        log_text(resp, 404, "no such tile at the latest checkpoint");
    } else if (rc) {
        tq_log(TQ_LOG_ERROR, "http: log tile: %s", err.msg);
        log_text(resp, 500, tq_rc_str(rc));
    } else {
        body_swap(&resp->body, &body);
        log_resp(resp, 200, "application/octet-stream",
                 lr.width == TQ_MERKLE_TILE_WIDTH ? "max-age=31536000, immutable" : "no-cache");
    }
    tq_buf_cleanup(&body);
}

const struct tq__http_route tq__http_route_log = {
    .path = "/log/",
    .match = TQ_HTTP_MATCH_PREFIX,
    .methods = TQ_METHOD_GET | TQ_METHOD_HEAD,
    .allow = "GET, HEAD",
    .method_refusal = "the log is read-only",
    .auth = TQ_HTTP_AUTH_NONE, /* tlog-tiles: public */
    .complete = log_complete,
    .refusal = log_refusal,
};

/* ---- openings for a partner ------------------------------------------------------------- */

bool tq__http_openings_from(const char *query, uint64_t *from)
{
    const char *p = query;
    bool seen = false;

    *from = 0;
    if (*p == '\0')
        return true;
    if (*p != '?')
        return false;
    p++;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len >= 5 && strncmp(p, "from=", 5) == 0) {
            if (seen || !tq_str_to_u64((struct tq_str){p + 5, len - 5}, from))
                return false;
            seen = true;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return true;
}

struct openings {
    struct tq_buf *body;
    size_t n;
    uint64_t next; /* the idx of the first entry left for the next page, when more remain */
    bool more;
    tq_rc rc;
};

static bool add_opening(void *ud, const struct tq_store_audit_entry *e)
{
    struct openings *o = ud;
    char salt[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];

    if (o->n == TQ_HTTP_OPENINGS_PAGE) {
        o->more = true;
        o->next = e->idx;
        return false;
    }
    sodium_bin2base64(salt, sizeof(salt), e->salt, sizeof(e->salt), sodium_base64_VARIANT_ORIGINAL);
    o->rc = tq_buf_printf(o->body, "%s{\"idx\":%" PRIu64 ",\"kind\":", o->n ? "," : "", e->idx);
    if (o->rc == TQ_OK)
        o->rc = tq_buf_append_json_str(o->body, e->kind, strlen(e->kind));
    if (o->rc == TQ_OK)
        o->rc = tq_buf_printf(o->body, ",\"salt\":\"%s\",\"record\":", salt);
    if (o->rc == TQ_OK)
        o->rc = tq_buf_append_json_str(o->body, e->record, strlen(e->record));
    if (o->rc == TQ_OK)
        o->rc = tq_buf_append_c(o->body, "}");
    o->n++;
    return o->rc == TQ_OK;
}

static void openings_complete(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct tq_store *store = rq->srv->taxii.store;
    struct tq_audit_log *log = rq->srv->audit;
    const char *partner = tq__principal_partner(&rq->who);
    const char *query = rq->target + strlen("/log/openings");
    struct openings o = {0};
    struct tq_err err = {0};
    struct tq_buf body;
    uint64_t from, size = 0;
    tq_rc rc;

    if (!log || !store || !partner) {
        log_text(resp, 404, "this node keeps no audit log");
        return;
    }
    if (!tq__http_openings_from(query, &from)) {
        log_text(resp, 400, "from must be a leaf index (a decimal number)");
        return;
    }
    rc = tq_audit_checkpoint_size(log, &size, &err);
    if (rc == TQ_ENOTFOUND)
        size = 0;
    else if (rc) {
        tq_log(TQ_LOG_ERROR, "http: log openings partner=%s rc=%s: %s", partner, tq_rc_name(rc),
               err.msg);
        log_text(resp, 500, tq_rc_str(rc));
        return;
    }
    tq_buf_init(&body, 64u << 20);
    o.body = &body;
    rc = tq_buf_printf(&body, "{\"size\":%" PRIu64 ",\"entries\":[", size);
    if (rc == TQ_OK)
        rc = tq_store_audit_partner_leaves(store, partner, from, size, add_opening, &o, &err);
    if (rc == TQ_OK && o.rc)
        rc = tq_err_set(&err, o.rc, "the answer is too large");
    if (rc == TQ_OK)
        rc = tq_buf_append_c(&body, "]");
    if (rc == TQ_OK && o.more)
        rc = tq_buf_printf(&body, ",\"next\":%" PRIu64, o.next);
    if (rc == TQ_OK)
        rc = tq_buf_append_c(&body, "}");
    if (rc) {
        tq_buf_cleanup(&body);
        tq_log(TQ_LOG_ERROR, "http: log openings partner=%s rc=%s: %s", partner, tq_rc_name(rc),
               err.msg);
        log_text(resp, 500, tq_rc_str(rc));
        return;
    }
    tq_log(TQ_LOG_DEBUG,
           "http: log openings partner=%s from=%" PRIu64 " size=%" PRIu64 " entries=%zu", partner,
           from, size, o.n);
    body_swap(&resp->body, &body);
    tq_buf_cleanup(&body);
    log_resp(resp, 200, "application/json", "no-store");
}

/*
 * GET /log/openings: the one resource under /log/ that is not public. It hands a partner node
 * the openings of the leaves naming it, so only a request authenticated by a partner's pinned
 * client certificate gets it; users, whatever their credentials, and anonymous callers get 403.
 */
const struct tq__http_route tq__http_route_log_openings = {
    .path = "/log/openings",
    .match = TQ_HTTP_MATCH_PATH,
    .methods = TQ_METHOD_GET | TQ_METHOD_HEAD,
    .allow = "GET, HEAD",
    .method_refusal = "the log is read-only",
    .auth = TQ_HTTP_AUTH_PARTNER,
    .auth_refusal = "openings are given only to a partner node, authenticated by its pinned "
                    "client certificate",
    .complete = openings_complete,
    .refusal = log_refusal,
};
