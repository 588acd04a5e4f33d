/* SPDX-License-Identifier: Apache-2.0
 *
 * taxii/resources.c - the TAXII 2.1 resources: discovery, api root, status, collections,
 * manifest, objects, object, versions, and the error resource.
 *
 * Each handler reads the store through the public interface and writes its JSON body into one
 * tq_buf. Object bodies are the canonical JSON the store keeps, appended as they are: reads
 * never re-serialise. Timestamps produced here carry microseconds, the precision of date_added
 * in the store, so that a date_added fed back as added_after selects exactly what follows.
 *
 * A request comes from a user or from a partner node (see struct tq_taxii_req). A partner's
 * queries carry its name into the store query, which filters by releasability inside SQL, so
 * a withheld version takes exactly the path of a missing one: object-by-id answers the same
 * 404, pages and counts never include it. Objects enter through tq_policy_put, which records
 * their release decisions in the same transaction.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "tansiq/audit.h"
#include "tansiq/ingest.h"
#include "tansiq/json.h"
#include "tansiq/policy.h"
#include "tansiq/stix.h"
#include "taxii/taxii.h"

/* ---- a small JSON writer with a sticky error -------------------------------------------- */

struct jw {
    struct tq_buf *b;
    tq_rc rc;
};

static void jw_raw(struct jw *w, const char *s)
{
    if (w->rc == TQ_OK)
        w->rc = tq_buf_append_c(w->b, s);
}

static void jw_mem(struct jw *w, const char *s, size_t len)
{
    if (w->rc == TQ_OK)
        w->rc = tq_buf_append(w->b, s, len);
}

static void jw_str(struct jw *w, const char *s)
{
    if (w->rc == TQ_OK)
        w->rc = tq_buf_append_json_str(w->b, s, strlen(s));
}

static void jw_u64(struct jw *w, uint64_t v)
{
    if (w->rc == TQ_OK)
        w->rc = tq_buf_printf(w->b, "%llu", (unsigned long long)v);
}

/* exact: object versions (see tq_time_format_exact); else microseconds (date_added). */
static void jw_time(struct jw *w, int64_t us, bool exact)
{
    char t[TQ_TIME_STR_MAX];

    if (exact)
        tq_time_format_exact(us, t);
    else
        tq_time_format(us, t);
    jw_raw(w, "\"");
    jw_raw(w, t);
    jw_raw(w, "\"");
}

/* ---- responses and error resources ------------------------------------------------------ */

void tq__taxii_resp_init(struct tq_taxii_resp *r)
{
    memset(r, 0, sizeof(*r));
    r->status = 200;
    tq_buf_init(&r->body, TQ_TAXII_BODY_MAX);
}

void tq__taxii_resp_cleanup(struct tq_taxii_resp *r)
{
    if (r)
        tq_buf_cleanup(&r->body);
}

static const char *status_title(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 507:
        return "Insufficient Storage";
    default:
        return status >= 500 ? "Internal Server Error" : "Error";
    }
}

void tq__taxii_error(struct tq_taxii_resp *r, int status, const char *title,
                     const char *description)
{
    struct jw w = {&r->body, TQ_OK};
    char num[16];

    tq_buf_reset(&r->body);
    r->status = status;
    r->has_dates = false;
    r->ignored[0] = '\0';
    if (!title)
        title = status_title(status);
    num[0] = (char)('0' + (status / 100) % 10);
    num[1] = (char)('0' + (status / 10) % 10);
    num[2] = (char)('0' + status % 10);
    num[3] = '\0';
    jw_raw(&w, "{\"title\":");
    jw_str(&w, title);
    if (description) {
        jw_raw(&w, ",\"description\":");
        jw_str(&w, description);
    }
    jw_raw(&w, ",\"http_status\":\"");
    jw_raw(&w, num);
    jw_raw(&w, "\"}");
    if (w.rc) {
        tq_buf_reset(&r->body);
        (void)tq_buf_append_c(&r->body, "{\"title\":\"Error\"}");
    }
}

void tq__taxii_error_rc(struct tq_taxii_resp *r, tq_rc rc, const char *detail)
{
    int status = tq_rc_http_status(rc);

    if (status >= 500) {
        /* Backend detail (paths, SQL) stays in the log, never in the response. */
        if (detail && detail[0])
            tq_log(TQ_LOG_ERROR, "taxii: request failed rc=%s detail=%s", tq_rc_name(rc), detail);
        tq__taxii_error(r, status, NULL, tq_rc_str(rc));
        return;
    }
    tq__taxii_error(r, status, NULL, detail && detail[0] ? detail : tq_rc_str(rc));
}

/* ---- collections and permissions -------------------------------------------------------- */

static void write_collection(struct jw *w, const struct tq_collection *c, bool r, bool wr)
{
    jw_raw(w, "{\"id\":");
    jw_str(w, c->id);
    jw_raw(w, ",\"title\":");
    jw_str(w, c->title ? c->title : c->id);
    if (c->description) {
        jw_raw(w, ",\"description\":");
        jw_str(w, c->description);
    }
    if (c->alias) {
        jw_raw(w, ",\"alias\":");
        jw_str(w, c->alias);
    }
    jw_raw(w, r ? ",\"can_read\":true" : ",\"can_read\":false");
    jw_raw(w, wr ? ",\"can_write\":true" : ",\"can_write\":false");
    jw_raw(w, ",\"media_types\":[\"" TQ_STIX_MEDIA "\"]}");
}

/* ---- discovery, api root, collections, status ------------------------------------------- */

static void handle_discovery(const struct tq_taxii_ctx *ctx, const struct tq_taxii_req *req,
                             struct tq_taxii_resp *resp)
{
    struct jw w = {&resp->body, TQ_OK};
    struct tq_buf url;

    tq_buf_init(&url, 4096);
    if (tq_buf_printf(&url, "%s/%s/", req->base_url, ctx->api_root)) {
        tq_buf_cleanup(&url);
        tq__taxii_error_rc(resp, TQ_ENOMEM, NULL);
        return;
    }
    jw_raw(&w, "{\"title\":");
    jw_str(&w, ctx->title);
    jw_raw(&w, ",\"description\":\"TAXII 2.1 server of a tansiq node\",\"default\":");
    jw_str(&w, url.ptr);
    jw_raw(&w, ",\"api_roots\":[");
    jw_str(&w, url.ptr);
    jw_raw(&w, "]}");
    tq_buf_cleanup(&url);
    if (w.rc)
        tq__taxii_error_rc(resp, w.rc, NULL);
}

static void handle_api_root(const struct tq_taxii_ctx *ctx, struct tq_taxii_resp *resp)
{
    struct jw w = {&resp->body, TQ_OK};

    jw_raw(&w, "{\"title\":");
    jw_str(&w, ctx->title);
    jw_raw(&w, ",\"versions\":[\"" TQ_TAXII_MEDIA "\"],\"max_content_length\":");
    jw_u64(&w, ctx->max_content_length);
    jw_raw(&w, "}");
    if (w.rc)
        tq__taxii_error_rc(resp, w.rc, NULL);
}

static void handle_status(const struct tq_taxii_ctx *ctx, const struct tq_taxii_req *req,
                          struct tq_taxii_resp *resp)
{
    struct tq_err err = {0};
    char *json = NULL;
    tq_rc rc;

    if (!tq_uuid_valid(tq_str_c(req->path.seg1))) {
        tq__taxii_error(resp, 404, NULL, "no such status resource");
        return;
    }
    /* A partner never owns a status resource: it may not POST. */
    if (tq__principal_partner(&req->who)) {
        tq__taxii_error(resp, 404, NULL, "no such status resource");
        return;
    }
    rc =
        tq_store_status_get(ctx->store, req->path.seg1, tq__principal_user(&req->who), &json, &err);
    if (rc == TQ_ENOTFOUND) {
        tq__taxii_error(resp, 404, NULL, "no such status resource");
        return;
    }
    if (rc) {
        tq__taxii_error_rc(resp, rc, err.msg);
        return;
    }
    rc = tq_buf_append_c(&resp->body, json);
    tq_free(json);
    if (rc)
        tq__taxii_error_rc(resp, rc, NULL);
}

static void handle_collections(const struct tq_taxii_ctx *ctx, const struct tq_taxii_req *req,
                               struct tq_taxii_resp *resp)
{
    struct jw w = {&resp->body, TQ_OK};
    struct tq_collection *cols = NULL;
    struct tq_err err = {0};
    size_t n = 0, i, shown = 0;
    tq_rc rc;

    rc = tq_store_collection_list(ctx->store, &cols, &n, &err);
    if (rc) {
        tq__taxii_error_rc(resp, rc, err.msg);
        return;
    }
    jw_raw(&w, "{\"collections\":[");
    for (i = 0; i < n; i++) {
        bool r = false, wr = false;
        rc = tq__access_perm(ctx->store, &req->who, cols[i].id, &r, &wr, &err);
        if (rc)
            goto out;
        if (!r && !wr)
            continue;
        if (shown++)
            jw_raw(&w, ",");
        write_collection(&w, &cols[i], r, wr);
    }
    jw_raw(&w, "]}");
    rc = w.rc;
    if (rc == TQ_OK && shown == 0) {
        tq_buf_reset(&resp->body);
        rc = tq_buf_append_c(&resp->body, "{}");
    }
out:
    tq_collection_list_free(cols, n);
    if (rc)
        tq__taxii_error_rc(resp, rc, err.msg);
}

static void handle_collection(const struct tq_taxii_ctx *ctx, const struct tq_taxii_req *req,
                              struct tq_taxii_resp *resp)
{
    struct jw w = {&resp->body, TQ_OK};
    struct tq_collection c;
    struct tq_err err = {0};
    bool r, wr;
    tq_rc rc;

    rc = tq__access_collection(ctx->store, &req->who, req->path.seg1, TQ_NEED_ANY, &c, &r, &wr,
                               &err);
    if (rc) {
        tq__taxii_error_rc(resp, rc, err.msg);
        return;
    }
    write_collection(&w, &c, r, wr);
    tq_collection_cleanup(&c);
    if (w.rc)
        tq__taxii_error_rc(resp, w.rc, NULL);
}

/* ---- queries: manifest, objects, object, versions --------------------------------------- */

struct page {
    struct jw w;
    enum tq_taxii_route route;
    size_t n;
    bool log_reads;      /* a partner's objects, object or versions request */
    int64_t *read_added; /* date_added of each row delivered when log_reads */
    size_t n_reads, cap_reads;
};

/* Remember a version given to a partner; it is logged as read once the page is complete. */
static void page_note_read(struct page *p, const struct tq_store_row *row)
{
    if (p->n_reads == p->cap_reads) {
        p->cap_reads = p->cap_reads ? 2 * p->cap_reads : 128;
        p->read_added = tq_xrealloc(p->read_added, p->cap_reads * sizeof(*p->read_added));
    }
    p->read_added[p->n_reads++] = row->stored_us;
}

static tq_rc on_row(void *ud, const struct tq_store_row *row)
{
    struct page *p = ud;
    struct jw *w = &p->w;

    if (p->n++)
        jw_raw(w, ",");
    if (p->log_reads)
        page_note_read(p, row);
    switch (p->route) {
    case TQ_ROUTE_OBJECTS:
    case TQ_ROUTE_OBJECT:
        jw_mem(w, row->json, row->json_len);
        break;
    case TQ_ROUTE_MANIFEST:
        jw_raw(w, "{\"id\":");
        jw_str(w, row->id);
        jw_raw(w, ",\"date_added\":");
        jw_time(w, row->date_added_us, false);
        jw_raw(w, ",\"version\":");
        /* An object without modified or created is versioned by its date_added. */
        jw_time(w, row->version_us >= 0 ? row->version_us : row->date_added_us,
                row->version_us >= 0);
        jw_raw(w, ",\"media_type\":\"" TQ_STIX_MEDIA "\"}");
        break;
    default:
        jw_time(w, row->version_us >= 0 ? row->version_us : row->date_added_us,
                row->version_us >= 0);
        break;
    }
    return w->rc;
}

/* Parse the filters of req into q (pointing into f, which the caller cleans up). */
static tq_rc build_query(const struct tq_taxii_ctx *ctx, const struct tq_taxii_req *req,
                         const char *collection_id, struct tq_taxii_filter *f,
                         struct tq_store_query *q, uint8_t binding[32], struct tq_err *err)
{
    enum tq_taxii_route route = req->path.route;
    tq_rc rc;

    rc = tq__taxii_filter_parse(req->query, tq__taxii_route_filters(route), f, err);
    if (rc)
        return rc;
    memset(q, 0, sizeof(*q));
    q->collection_id = collection_id;
    if (route == TQ_ROUTE_OBJECT || route == TQ_ROUTE_VERSIONS)
        q->object_id = req->path.seg2;
    q->has_added_after = f->has_added_after;
    q->added_after_us = f->added_after_us;
    q->limit = f->limit;
    q->ids = f->ids;
    q->n_ids = f->n_ids;
    q->types = f->types;
    q->n_types = f->n_types;
    q->version_flags = f->version_flags;
    q->versions = f->versions;
    q->n_versions = f->n_versions;
    q->spec_versions = f->spec_versions;
    q->n_spec_versions = f->n_spec_versions;
    if (route == TQ_ROUTE_VERSIONS)
        q->version_flags = TQ_MATCH_ALL;
    /* A partner's queries are filtered inside the store by its releasability, so limit,
     * more, next and the date headers count only what it may see. */
    q->partner = tq__principal_partner(&req->who);
    tq__taxii_cursor_binding(route, collection_id, q->object_id, f, binding);
    tq__taxii_cursor_bind_partner(binding, tq__principal_partner(&req->who));
    if (f->next[0]) {
        rc = tq__taxii_cursor_decode(ctx->cursor_key, binding, f->next, &q->cursor, err);
        if (rc) {
            tq__taxii_filter_cleanup(f);
            return rc;
        }
        q->has_cursor = true;
    }
    return TQ_OK;
}

static void handle_query(const struct tq_taxii_ctx *ctx, const struct tq_taxii_req *req,
                         struct tq_taxii_resp *resp)
{
    enum tq_taxii_route route = req->path.route;
    struct page p = {{&resp->body, TQ_OK}, route, 0, false, NULL, 0, 0};
    struct tq_store_page_info info;
    struct tq_taxii_filter f;
    struct tq_store_query q;
    struct tq_collection c;
    struct tq_err err = {0};
    uint8_t binding[32];
    bool r, wr, have_filter = false;
    const char *list_key;
    tq_rc rc;

    memset(&c, 0, sizeof(c));
    rc = tq__access_collection(ctx->store, &req->who, req->path.seg1, TQ_NEED_READ, &c, &r, &wr,
                               &err);
    if (rc) {
        tq__taxii_error_rc(resp, rc, err.msg);
        return;
    }
    if ((route == TQ_ROUTE_OBJECT || route == TQ_ROUTE_VERSIONS) &&
        !tq_stix_id_valid(tq_str_c(req->path.seg2))) {
        rc = tq_err_set(&err, TQ_ENOTFOUND, "no such object");
        goto out;
    }
    rc = build_query(ctx, req, c.id, &f, &q, binding, &err);
    if (rc)
        goto out;
    have_filter = true;
    memcpy(resp->ignored, f.ignored, sizeof(resp->ignored));

    p.log_reads = tq__principal_partner(&req->who) && ctx->audit && route != TQ_ROUTE_MANIFEST;
    /* A partner's read is logged before it counts as served; a store that cannot log it (a
     * replica, a full disk) does not serve it: partners read from the primary. */
    if (p.log_reads && tq_store_read_only(ctx->store)) {
        rc = tq_err_set(&err, TQ_EREADONLY,
                        "this node is read-only and cannot log a partner's read: "
                        "read from its primary");
        goto out;
    }
    list_key = route == TQ_ROUTE_VERSIONS ? "{\"versions\":[" : "{\"objects\":[";
    jw_raw(&p.w, list_key);
    memset(&info, 0, sizeof(info));
    rc = tq_store_query(ctx->store, &q, route == TQ_ROUTE_OBJECTS || route == TQ_ROUTE_OBJECT,
                        on_row, &p, &info, &err);
    if (rc == TQ_OK)
        rc = p.w.rc;
    if (rc)
        goto out;

    if (p.n == 0) {
        if ((route == TQ_ROUTE_OBJECT || route == TQ_ROUTE_VERSIONS) && !q.has_cursor) {
            rc = tq_err_set(&err, TQ_ENOTFOUND, "no such object");
            goto out;
        }
        tq_buf_reset(&resp->body);
        rc = tq_buf_append_c(&resp->body, "{}");
        goto out;
    }
    jw_raw(&p.w, "]");
    if (info.more) {
        char next[TQ_TAXII_NEXT_MAX + 1];
        rc =
            tq__taxii_cursor_encode(ctx->cursor_key, binding, &info.next, next, sizeof(next), &err);
        if (rc)
            goto out;
        jw_raw(&p.w, ",\"more\":true,\"next\":\"");
        jw_raw(&p.w, next);
        jw_raw(&p.w, "\"}");
    } else {
        jw_raw(&p.w, ",\"more\":false}");
    }
    rc = p.w.rc;
    if (rc)
        goto out;
    resp->has_dates = true;
    tq_time_format(info.first_date_added_us, resp->date_first);
    tq_time_format(info.last_date_added_us, resp->date_last);
    /* The page is complete: one read event names every version in it by its date_added. */
    if (p.n_reads)
        tq_audit_note_reads(ctx->audit, tq__principal_partner(&req->who), c.id, p.read_added,
                            p.n_reads, NULL);
out:
    tq_free(p.read_added);
    if (have_filter)
        tq__taxii_filter_cleanup(&f);
    tq_collection_cleanup(&c);
    if (rc)
        tq__taxii_error_rc(resp, rc, err.msg);
}

static void handle_delete(const struct tq_taxii_ctx *ctx, const struct tq_taxii_req *req,
                          struct tq_taxii_resp *resp)
{
    struct tq_taxii_filter f;
    struct tq_store_query q;
    struct tq_collection c;
    struct tq_err err = {0};
    uint8_t binding[32];
    size_t deleted = 0;
    bool r, wr, have_filter = false;
    tq_rc rc;

    memset(&c, 0, sizeof(c));
    rc = tq__access_collection(ctx->store, &req->who, req->path.seg1, TQ_NEED_WRITE, &c, &r, &wr,
                               &err);
    if (rc) {
        tq__taxii_error_rc(resp, rc, err.msg);
        return;
    }
    if (!r) {
        /* Deleting blind would let a write-only user probe which objects exist. */
        rc = tq_err_set(&err, TQ_EFORBIDDEN, "read access to this collection is not permitted");
        goto out;
    }
    if (!tq_stix_id_valid(tq_str_c(req->path.seg2))) {
        rc = tq_err_set(&err, TQ_ENOTFOUND, "no such object");
        goto out;
    }
    rc = build_query(ctx, req, c.id, &f, &q, binding, &err);
    if (rc)
        goto out;
    have_filter = true;
    if (q.version_flags == 0)
        q.version_flags = TQ_MATCH_ALL; /* DELETE defaults to every version */
    rc = tq_store_delete(ctx->store, &q, &deleted, &err);
    if (rc == TQ_ENOTFOUND)
        rc = tq_err_set(&err, TQ_ENOTFOUND, "no such object");
    if (rc == TQ_OK)
        tq_log(TQ_LOG_INFO, "taxii: delete collection=%s object=%s versions=%zu", c.id,
               req->path.seg2, deleted);
out:
    if (have_filter)
        tq__taxii_filter_cleanup(&f);
    tq_collection_cleanup(&c);
    if (rc)
        tq__taxii_error_rc(resp, rc, err.msg);
}

/* ---- POST objects ----------------------------------------------------------------------- */

/* id and version of a refused object, read from its JSON, for the status failures list. */
static void failed_identity(struct json_object *objs, size_t i, const char **id,
                            const char **version)
{
    struct json_object *o = objs ? json_object_array_get_idx(objs, i) : NULL;
    struct json_object *v;

    *id = "";
    *version = "";
    if (!o || !json_object_is_type(o, json_type_object))
        return;
    if (json_object_object_get_ex(o, "id", &v) && json_object_is_type(v, json_type_string))
        *id = json_object_get_string(v);
    if ((json_object_object_get_ex(o, "modified", &v) ||
         json_object_object_get_ex(o, "created", &v)) &&
        json_object_is_type(v, json_type_string))
        *version = json_object_get_string(v);
}

static const struct tq_stix_problem *first_error(const struct tq_stix_batch *b, size_t index)
{
    size_t i;

    for (i = 0; i < b->n_problems; i++) {
        if (b->problems[i].index == index && !b->problems[i].warning)
            return &b->problems[i];
    }
    return NULL;
}

/* The successes list of a status: the objects stored, or found already present. */
static void write_successes(struct jw *w, const struct tq_stix_object *good, size_t n_good,
                            const enum tq_put_result *results, const int64_t *added)
{
    size_t k;

    for (k = 0; k < n_good; k++) {
        const struct tq_stix_object *o = &good[k];
        if (k)
            jw_raw(w, ",");
        jw_raw(w, "{\"id\":");
        jw_str(w, o->id);
        jw_raw(w, ",\"version\":");
        jw_time(w, o->version_us >= 0 ? o->version_us : added[k], o->version_us >= 0);
        jw_raw(w, results[k] == TQ_PUT_PRESENT ? ",\"message\":\"already present\"}"
                                               : ",\"message\":\"stored\"}");
    }
}

/* The failures list of a status: each refused object with the first error found in it. */
static void write_failures(struct jw *w, const struct tq_stix_batch *batch,
                           struct json_object *objs)
{
    size_t i, k = 0;

    for (i = 0; i < batch->n; i++) {
        const struct tq_stix_problem *p;
        const char *id, *version;
        if (batch->items[i].ok)
            continue;
        failed_identity(objs, i, &id, &version);
        p = first_error(batch, i);
        if (k++)
            jw_raw(w, ",");
        jw_raw(w, "{\"id\":");
        jw_str(w, id);
        jw_raw(w, ",\"version\":");
        jw_str(w, version);
        jw_raw(w, ",\"message\":");
        if (p && p->property && p->property[0]) {
            struct tq_buf m;
            tq_buf_init(&m, 2048);
            if (tq_buf_printf(&m, "%s: %s", p->property, p->reason ? p->reason : "invalid") ==
                TQ_OK)
                jw_str(w, m.ptr);
            else
                jw_str(w, "invalid STIX object");
            tq_buf_cleanup(&m);
        } else {
            jw_str(w, p && p->reason ? p->reason : "invalid STIX object");
        }
        jw_raw(w, "}");
    }
}

/*
 * The TAXII status resource of a completed POST, written through w (its sticky error tells
 * whether it is whole). good, results and added are the n_good objects given to
 * tq_ingest_put and what it answered for each; objs is the envelope's list the batch was read
 * from.
 */
static void write_status(struct jw *w, const char *status_id, int64_t received_us,
                         const struct tq_stix_batch *batch, struct json_object *objs,
                         const struct tq_stix_object *good, size_t n_good,
                         const enum tq_put_result *results, const int64_t *added)
{
    char ts[TQ_TIME_STR_MAX];

    tq_time_format(received_us, ts);
    jw_raw(w, "{\"id\":\"");
    jw_raw(w, status_id);
    jw_raw(w, "\",\"status\":\"complete\",\"request_timestamp\":\"");
    jw_raw(w, ts);
    jw_raw(w, "\",\"total_count\":");
    jw_u64(w, batch->n);
    jw_raw(w, ",\"success_count\":");
    jw_u64(w, n_good);
    jw_raw(w, ",\"successes\":[");
    write_successes(w, good, n_good, results, added);
    jw_raw(w, "],\"failure_count\":");
    jw_u64(w, batch->n - n_good);
    jw_raw(w, ",\"failures\":[");
    write_failures(w, batch, objs);
    jw_raw(w, "],\"pending_count\":0,\"pendings\":[]}");
}

static void handle_post(const struct tq_taxii_ctx *ctx, const struct tq_taxii_req *req,
                        struct tq_taxii_resp *resp)
{
    struct jw w = {&resp->body, TQ_OK};
    struct tq_collection c;
    struct tq_err err = {0};
    struct json_object *root = NULL, *objs = NULL;
    struct tq_stix_batch *batch = NULL;
    struct tq_stix_object *good = NULL;
    enum tq_put_result *results = NULL;
    int64_t *added = NULL;
    size_t i, n_good = 0;
    char status_id[37];
    bool r, wr;
    tq_rc rc;

    memset(&c, 0, sizeof(c));
    rc = tq__access_collection(ctx->store, &req->who, req->path.seg1, TQ_NEED_WRITE, &c, &r, &wr,
                               &err);
    if (rc) {
        tq__taxii_error_rc(resp, rc, err.msg);
        return;
    }
    /* Malformed JSON is 400, JSON that is not an envelope ({"objects": [...]}) is 422. */
    rc = tq_json_parse(req->body, &root, &err);
    if (rc)
        goto out;
    if (!json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "objects", &objs) ||
        !json_object_is_type(objs, json_type_array)) {
        rc = tq_err_set(&err, TQ_EUNPROCESSABLE,
                        "request body is not a TAXII envelope with an objects list");
        goto out;
    }
    batch = tq_stix_batch_of(objs, false); /* the body is parsed once: objs is root's */

    good = tq_xcalloc(batch->n ? batch->n : 1, sizeof(*good));
    results = tq_xcalloc(batch->n ? batch->n : 1, sizeof(*results));
    added = tq_xcalloc(batch->n ? batch->n : 1, sizeof(*added));
    for (i = 0; i < batch->n; i++) {
        if (batch->items[i].ok)
            good[n_good++] = batch->items[i].obj; /* shallow: the batch owns the JSON */
    }
    if (n_good) {
        rc = tq_ingest_put(ctx->store, c.id, good, n_good, NULL, results, added, &err);
        if (rc)
            goto out;
    }

    tq_uuid4(status_id);
    write_status(&w, status_id, req->received_us, batch, objs, good, n_good, results, added);
    rc = w.rc;
    if (rc)
        goto out;

    rc = tq_store_status_put(ctx->store, status_id, tq__principal_user(&req->who), req->received_us,
                             resp->body.ptr, resp->body.len, &err);
    if (rc) {
        /* The objects are stored; only the status record is missing. Say so in the log and
         * still answer with the status, which is the truth about this request. */
        tq_log(TQ_LOG_ERROR, "taxii: status not saved id=%s rc=%s detail=%s", status_id,
               tq_rc_name(rc), err.msg);
        rc = TQ_OK;
    }
    resp->status = 202;
    tq_log(TQ_LOG_INFO, "taxii: post collection=%s user=%s total=%zu stored=%zu refused=%zu", c.id,
           tq__principal_user(&req->who), batch->n, n_good, batch->n - n_good);
out:
    if (root)
        json_object_put(root);
    tq_stix_batch_free(batch);
    tq_free(good);
    tq_free(results);
    tq_free(added);
    tq_collection_cleanup(&c);
    if (rc)
        tq__taxii_error_rc(resp, rc, err.msg);
}

/* ---- dispatch --------------------------------------------------------------------------- */

void tq__taxii_status_purge(const struct tq_taxii_ctx *ctx, int64_t now_us)
{
    struct tq_err err = {0};
    tq_rc rc;

    rc = tq_store_status_purge(ctx->store, now_us - ctx->status_retention_us, &err);
    if (rc)
        tq_log(TQ_LOG_WARN, "taxii: status purge failed rc=%s detail=%s", tq_rc_name(rc), err.msg);
}

void tq__taxii_handle(const struct tq_taxii_ctx *ctx, const struct tq_taxii_req *req,
                      struct tq_taxii_resp *resp)
{
    resp->status = 200;
    tq_buf_reset(&resp->body);
    switch (req->path.route) {
    case TQ_ROUTE_DISCOVERY:
        handle_discovery(ctx, req, resp);
        return;
    case TQ_ROUTE_API_ROOT:
        handle_api_root(ctx, resp);
        return;
    case TQ_ROUTE_STATUS:
        handle_status(ctx, req, resp);
        return;
    case TQ_ROUTE_COLLECTIONS:
        handle_collections(ctx, req, resp);
        return;
    case TQ_ROUTE_COLLECTION:
        handle_collection(ctx, req, resp);
        return;
    case TQ_ROUTE_OBJECTS:
        if (req->method == TQ_METHOD_POST) {
            handle_post(ctx, req, resp);
            return;
        }
        handle_query(ctx, req, resp);
        return;
    case TQ_ROUTE_OBJECT:
        if (req->method == TQ_METHOD_DELETE) {
            handle_delete(ctx, req, resp);
            return;
        }
        handle_query(ctx, req, resp);
        return;
    case TQ_ROUTE_MANIFEST:
    case TQ_ROUTE_VERSIONS:
        handle_query(ctx, req, resp);
        return;
    default:
        tq__taxii_error(resp, 404, NULL, "no such resource");
        return;
    }
}
