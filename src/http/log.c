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

static enum MHD_Result respond_allow(struct MHD_Connection *conn, unsigned status,
                                     struct tq_buf *body, const char *type, const char *cache,
                                     const char *allow)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t len = 0;
    char *data = tq_buf_take(body, &len);

    r = tq__http_response_new(conn, data, len);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, struct tq_buf *body,
                               const char *type, const char *cache)
{
    return respond_allow(conn, status, body, type, cache, NULL);
}

int tq__http_log_text(struct MHD_Connection *conn, unsigned status, const char *text,
                      const char *allow)
{
    struct tq_buf b;
    enum MHD_Result ret;

    tq_buf_init(&b, 4096);
    tq_buf_append_c(&b, text);
    tq_buf_append_c(&b, "\n");
    ret = respond_allow(conn, status, &b, "text/plain; charset=utf-8", "no-store", allow);
    tq_buf_cleanup(&b);
    return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    return (enum MHD_Result)tq__http_log_text(conn, status, text, NULL);
}

int tq__http_log_add_checkpoint(struct MHD_Connection *conn, struct tq_store *store,
                                const struct tq_note_signer *witness, struct tq_str body)
{
    struct tq_witness_answer ans;
    struct tq_err err = {0};
    enum MHD_Result ret;
    tq_rc rc;

    if (!store || !witness)
        return respond_text(conn, 404, "this node witnesses no log");
    tq_witness_answer_init(&ans);
    rc = tq_witness_add_checkpoint(store, witness, body, (uint64_t)(tq_time_now_us() / 1000000),
                                   &ans, &err);
    if (rc) {
        tq_witness_answer_cleanup(&ans);
        tq_log(TQ_LOG_ERROR, "http: add-checkpoint rc=%s: %s", tq_rc_name(rc), err.msg);
        return respond_text(conn, 500, tq_rc_str(rc));
    }
    tq_log(TQ_LOG_DEBUG, "http: add-checkpoint status=%d size=%" PRIu64 " alarm=%d", ans.status,
           ans.size, ans.alarm);
    ret = respond(conn, (unsigned)ans.status, &ans.body,
                  ans.status == 409 ? "text/x.tlog.size" : "text/plain; charset=utf-8", "no-store");
    tq_witness_answer_cleanup(&ans);
    return ret;
}

int tq__http_log_serve(struct MHD_Connection *conn, struct tq_audit_log *log,
                       const struct tq_note_signer *signer, const char *path)
{
    struct tq__http_log_req lr;
    struct tq_err err = {0};
    enum MHD_Result ret;
    struct tq_buf body;
    char *note = NULL;
    uint64_t size = 0;
    tq_rc rc;

    if (!log || !signer)
        return respond_text(conn, 404, "this node keeps no audit log");
    if (!tq__http_log_path(path, &lr))
        return respond_text(conn, 404, "no such log resource");
    if (lr.kind == TQ__LOG_CHECKPOINT) {
        rc = tq_audit_checkpoint_fresh(log, signer, CHECKPOINT_MIN_INTERVAL_MS, &note, &err);
        if (rc) {
            tq_log(TQ_LOG_ERROR, "http: log checkpoint: %s", err.msg);
            return respond_text(conn, (unsigned)tq_rc_http_status(rc), tq_rc_str(rc));
        }
        tq_buf_init(&body, TQ_NOTE_MAX_BYTES);
        tq_buf_append_c(&body, note);
        tq_free(note);
        ret = respond(conn, 200, &body, "text/plain; charset=utf-8", "no-cache");
        tq_buf_cleanup(&body);
        return ret;
    }
    rc = tq_audit_checkpoint_size(log, &size, &err);
    if (rc == TQ_ENOTFOUND)
        return respond_text(conn, 404, "no checkpoint yet");
    if (rc) {
        tq_log(TQ_LOG_ERROR, "http: log tile: %s", err.msg);
        return respond_text(conn, 500, tq_rc_str(rc));
    }
    tq_buf_init(&body, TQ_MERKLE_TILE_WIDTH * 34);
    if (lr.kind == TQ__LOG_ENTRIES)
        rc = tq_audit_entries(log, size, lr.index, lr.width, &body, &err);
    else
        rc = tq_audit_tile(log, size, lr.level, lr.index, lr.width, &body, &err);
    if (rc == TQ_ENOTFOUND) {
        tq_buf_cleanup(&body);
        return respond_text(conn, 404, "no such tile at the latest checkpoint");
    }
    if (rc) {
        tq_buf_cleanup(&body);
        tq_log(TQ_LOG_ERROR, "http: log tile: %s", err.msg);
        return respond_text(conn, 500, tq_rc_str(rc));
    }
    ret = respond(conn, 200, &body, "application/octet-stream",
                  lr.width == TQ_MERKLE_TILE_WIDTH ? "max-age=31536000, immutable" : "no-cache");
    tq_buf_cleanup(&body);
    return ret;
}

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

int tq__http_log_openings(struct MHD_Connection *conn, struct tq_store *store,
                          struct tq_audit_log *log, const char *partner, const char *query)
{
    struct openings o = {0};
    struct tq_err err = {0};
    enum MHD_Result ret;
    struct tq_buf body;
    uint64_t from, size = 0;
    tq_rc rc;

    if (!log || !store)
        return respond_text(conn, 404, "this node keeps no audit log");
    if (!tq__http_openings_from(query, &from))
        return respond_text(conn, 400, "from must be a leaf index (a decimal number)");
    rc = tq_audit_checkpoint_size(log, &size, &err);
    if (rc == TQ_ENOTFOUND)
        size = 0;
    else if (rc) {
        tq_log(TQ_LOG_ERROR, "http: log openings partner=%s rc=%s: %s", partner, tq_rc_name(rc),
               err.msg);
        return respond_text(conn, 500, tq_rc_str(rc));
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
        return respond_text(conn, 500, tq_rc_str(rc));
    }
    tq_log(TQ_LOG_DEBUG,
           "http: log openings partner=%s from=%" PRIu64 " size=%" PRIu64 " entries=%zu", partner,
           from, size, o.n);
    ret = respond(conn, 200, &body, "application/json", "no-store");
    tq_buf_cleanup(&body);
    return ret;
}
