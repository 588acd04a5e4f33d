/* SPDX-License-Identifier: Apache-2.0
 *
 * http/events.c - GET /events/: a Server-Sent Events stream (text/event-stream) for an
 * authenticated user. Today it carries a heartbeat every heartbeat_s seconds,
 *
 *   event: heartbeat
 *   data: {"time":"2026-01-01T00:00:00.000Z"}
 *
 * the first one at once; later work adds alerts as other event types on the same stream.
 *
 * A stream is a request in progress for the connection governance (conn.c): it is never shed
 * and has no header deadline. It must not hold a worker thread either, since each of them
 * serves many connections: when a stream has nothing to send, its content reader suspends the
 * connection (MHD_suspend_connection, allowed from a content reader), and the ticker thread
 * resumes every suspended stream at each heartbeat. Suspending and resuming happen under the
 * hub's lock, so a stream is never resumed before it was suspended. At shutdown
 * tq__http_events_close wakes every stream, which then ends, before the daemon stops: it may
 * not stop with suspended connections.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/http.h"

struct stream {
    struct tq__http_events *ev;
    struct MHD_Connection *conn;
    struct stream *prev, *next;
    uint64_t sent;  /* the tick whose heartbeat went out last */
    bool suspended; /* by its content reader, until the ticker resumes it */
};

struct tq__http_events {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t ticker;
    bool ticker_started;
    bool closing;
    unsigned heartbeat_s;
    uint64_t ticks; /* heartbeats due since start */
    struct stream *head;
};

struct tq__http_events *tq__http_events_new(unsigned heartbeat_s)
{
    struct tq__http_events *ev = tq_xcalloc(1, sizeof(*ev));

    pthread_mutex_init(&ev->lock, NULL);
    pthread_cond_init(&ev->wake, NULL);
    ev->heartbeat_s = heartbeat_s ? heartbeat_s : TQ_HTTP_HEARTBEAT_S_DEFAULT;
    ev->ticks = 1;
    return ev;
}

/* Wake every suspended stream. Under ev->lock. */
static void resume_all(struct tq__http_events *ev)
{
    struct stream *s;

    for (s = ev->head; s; s = s->next) {
        if (s->suspended) {
            s->suspended = false;
            MHD_resume_connection(s->conn);
        }
    }
}

static void *ticker_main(void *arg)
{
    struct tq__http_events *ev = arg;
    struct timespec ts;

    pthread_mutex_lock(&ev->lock);
    clock_gettime(CLOCK_REALTIME, &ts);
    while (!ev->closing) {
        ts.tv_sec += ev->heartbeat_s;
        while (!ev->closing && pthread_cond_timedwait(&ev->wake, &ev->lock, &ts) == 0)
            ;
        if (ev->closing)
            break;
        ev->ticks++;
        resume_all(ev);
    }
    pthread_mutex_unlock(&ev->lock);
    return NULL;
}

tq_rc tq__http_events_start(struct tq__http_events *ev, struct tq_err *err)
{
    if (pthread_create(&ev->ticker, NULL, ticker_main, ev) != 0)
        return tq_err_set(err, TQ_EIO, "cannot start the event stream thread");
    ev->ticker_started = true;
    return TQ_OK;
}

void tq__http_events_close(struct tq__http_events *ev)
{
    if (!ev)
        return;
    pthread_mutex_lock(&ev->lock);
    ev->closing = true;
    resume_all(ev);
    pthread_cond_signal(&ev->wake);
    pthread_mutex_unlock(&ev->lock);
    if (ev->ticker_started) {
        pthread_join(ev->ticker, NULL);
        ev->ticker_started = false;
    }
}

void tq__http_events_free(struct tq__http_events *ev)
{
    if (!ev)
        return;
    tq__http_events_close(ev);
    /* The daemon has stopped: every response, hence every stream, was freed with it. */
    pthread_cond_destroy(&ev->wake);
    pthread_mutex_destroy(&ev->lock);
    tq_free(ev);
}

/* ---- one stream ------------------------------------------------------------------------- */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    struct tq__http_events *ev = s->ev;
    char now[TQ_TIME_STR_MAX];
    int n;

    (void)pos;
    pthread_mutex_lock(&ev->lock);
    if (ev->closing) {
        pthread_mutex_unlock(&ev->lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (s->sent == ev->ticks) {
        s->suspended = true;
        MHD_suspend_connection(s->conn);
        pthread_mutex_unlock(&ev->lock);
        return 0;
    }
    s->sent = ev->ticks;
    pthread_mutex_unlock(&ev->lock);
    tq_time_format_ms(tq_time_now_us(), now);
    n = snprintf(buf, max, "event: heartbeat\ndata: {\"time\":\"%s\"}\n\n", now);
    if (n < 0 || (size_t)n >= max)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    struct tq__http_events *ev = s->ev;

    pthread_mutex_lock(&ev->lock);
    if (s->prev)
        s->prev->next = s->next;
    else
        ev->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    pthread_mutex_unlock(&ev->lock);
    tq_free(s);
}

static void events_complete(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct tq__http_events *ev = rq->srv->events;
    struct stream *s;

    pthread_mutex_lock(&ev->lock);
    if (ev->closing) {
        pthread_mutex_unlock(&ev->lock);
        tq__http_resp_text(resp, 503, "the server is stopping");
        return;
    }
    s = tq_xcalloc(1, sizeof(*s));
    s->ev = ev;
    s->conn = rq->conn;
    s->sent = ev->ticks - 1; /* the first heartbeat goes out at once */
    s->next = ev->head;
    if (ev->head)
        ev->head->prev = s;
    ev->head = s;
    pthread_mutex_unlock(&ev->lock);
    tq_log(TQ_LOG_DEBUG, "http: event stream opened user=%s", tq__principal_name(&rq->who));
    resp->status = 200;
    resp->media_type = "text/event-stream";
    resp->gzip = false;
    tq__http_resp_stream(resp, stream_read, s, stream_free);
}

static void events_refusal(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    tq__http_resp_text(resp, (unsigned)rq->err_status, rq->err_desc);
}

const struct tq__http_route tq__http_route_events = {
    .path = "/events/",
    .match = TQ_HTTP_MATCH_PATH,
    .methods = TQ_METHOD_GET,
    .allow = "GET",
    .method_refusal = "the event stream takes GET only",
    .auth = TQ_HTTP_AUTH_USER,
    .auth_refusal = "the event stream is for users",
    .complete = events_complete,
    .refusal = events_refusal,
};
