/* SPDX-License-Identifier: Apache-2.0
 *
 * http/response.c - the one response type of the server.
 *
 * A handler fills a struct tq__http_resp: status, media type, cache policy, a few headers and
 * either a body or a stream. Bodies go through tq__http_response_new (encode.c: gzip when the
 * client accepts it and the body gains); streams through MHD_create_response_from_callback,
 * chunked on HTTP/1.1, never encoded. Every answer says X-Content-Type-Options: nosniff.
 */
#include <string.h>

#include "http/http.h"

#define STREAM_BLOCK_BYTES 1024 /* what the content reader is asked for at a time */

void tq__http_resp_init(struct tq__http_resp *r, unsigned status, const char *media_type)
{
    memset(r, 0, sizeof(*r));
    r->status = status;
    r->media_type = media_type;
    r->cache_control = "no-store";
    r->gzip = true;
    tq_buf_init(&r->body, TQ_TAXII_BODY_MAX);
}

void tq__http_resp_cleanup(struct tq__http_resp *r)
{
    size_t i;

    for (i = 0; i < r->n_headers; i++)
        tq_free(r->headers[i].value);
    if (r->stream && r->stream_free)
        r->stream_free(r->stream_cls);
    tq_buf_cleanup(&r->body);
    memset(r, 0, sizeof(*r));
}

void tq__http_resp_header(struct tq__http_resp *r, const char *name, const char *value)
{
    if (r->n_headers >= TQ_HTTP_RESP_HEADERS_MAX)
        return; /* no response of ours has that many: a bug, but not worth a failed answer */
    r->headers[r->n_headers].name = name;
    r->headers[r->n_headers].value = tq_xstrdup(value);
    r->n_headers++;
}

void tq__http_resp_text(struct tq__http_resp *r, unsigned status, const char *text)
{
    r->status = status;
    r->media_type = "text/plain; charset=utf-8";
    tq_buf_reset(&r->body);
    tq_buf_append_c(&r->body, text);
    tq_buf_append_c(&r->body, "\n");
}

void tq__http_resp_json(struct tq__http_resp *r, unsigned status, struct tq_buf *body)
{
    r->status = status;
    r->media_type = "application/json";
    tq_buf_cleanup(&r->body);
    r->body = *body;
    tq_buf_init(body, 0);
}

void tq__http_resp_json_error(struct tq__http_resp *r, unsigned status, const char *what)
{
    struct tq_buf b;

    tq_buf_init(&b, 4096);
    tq_buf_append_c(&b, "{\"error\":");
    tq_buf_append_json_str(&b, what, strlen(what));
    tq_buf_append_c(&b, "}");
    tq__http_resp_json(r, status, &b);
    tq_buf_cleanup(&b);
}

void tq__http_resp_json_fail(struct tq__http_resp *r, tq_rc rc, const struct tq_err *err,
                             const char *what)
{
    unsigned status = (unsigned)tq_rc_http_status(rc);

    if (status >= 500) { /* store and server failures say no more than their class */
        tq_log(TQ_LOG_ERROR, "http: %s: %s", what, err->msg);
        tq__http_resp_json_error(r, status, tq_rc_str(rc));
    } else {
        tq__http_resp_json_error(r, status, err->msg[0] ? err->msg : tq_rc_str(rc));
    }
}

void tq__http_resp_stream(struct tq__http_resp *r, tq__http_stream_cb cb, void *cls,
                          void (*free_cb)(void *cls))
{
    r->stream = cb;
    r->stream_cls = cls;
    r->stream_free = free_cb;
}

enum MHD_Result tq__http_resp_queue(struct MHD_Connection *conn, struct tq__http_resp *r)
{
    struct MHD_Response *mr;
    enum MHD_Result ret;
    size_t i, len = 0;

    if (r->stream) {
        mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK_BYTES, r->stream,
                                               r->stream_cls, r->stream_free);
        if (!mr)
            return MHD_NO; /* stream_free runs in tq__http_resp_cleanup */
        r->stream = NULL;  /* libmicrohttpd calls stream_free now */
    } else {
        char *body = tq_buf_take(&r->body, &len);

        if (r->gzip)
            mr = tq__http_response_new(conn, body, len);
        else if (body)
            mr = MHD_create_response_from_buffer_with_free_callback(len, body, tq_free);
        else
            mr = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!mr && body && !r->gzip)
            tq_free(body);
        if (!mr)
            return MHD_NO;
    }
    if (r->media_type)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, r->media_type);
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache_control);
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    for (i = 0; i < r->n_headers; i++)
        MHD_add_response_header(mr, r->headers[i].name, r->headers[i].value);
    ret = MHD_queue_response(conn, r->status, mr);
    MHD_destroy_response(mr);
    return ret;
}
