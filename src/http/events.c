/* SPDX-License-Identifier: Apache-2.0
 *
 * http/events.c - GET /events/: a Server-Sent Events stream (text/event-stream) for an
 * authenticated user. It carries a heartbeat every heartbeat_s seconds,
 *
 *   event: heartbeat
 *   data: {"time":"2026-01-01T00:00:00.000Z"}
 *
 * the first one at once, and the alerts the user may see (tansiq/alerts.h), each with its id:
 *
 *   id: 42
 *   event: alert
 *   data: {"id":42,"rule":"near-border",...}
 *
 * A client that reconnects with Last-Event-ID: N (or ?after=N) gets every alert after N that
 * it may see, then the new ones; without either it gets the new ones only. Alerts are read from
 * the store, through the reader filter of the user, when the monitor of this process raises one
 * and at every heartbeat (which brings the alerts other processes of the node raised).
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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http.h"
#include "tansiq/alerts.h"

#define ALERTS_PER_READ 64
#define PENDING_MAX ((size_t)8 << 20)

struct stream {
    struct tq__http_events *ev;
    struct MHD_Connection *conn;
    struct stream *prev, *next;
    uint64_t sent;                   /* the tick whose heartbeat went out last */
    uint64_t alert_seen;             /* the alert generation read last */
    bool suspended;                  /* by its content reader, until the ticker resumes it */
    bool more;                       /* alerts remain after the last read */
    int64_t last_id;                 /* the last alert sent */
    char key[TQ_AUTH_USER_MAX + 16]; /* the user's permission key: what it may see */
    struct tq_buf pending;           /* bytes produced, not yet handed out */
    size_t off;
};

struct tq__http_events {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t ticker;
    bool ticker_started;
    bool closing;
    unsigned heartbeat_s;
    uint64_t ticks;     /* heartbeats due since start */
    uint64_t alert_gen; /* alerts raised in this process since start */
    struct tq_store *store;
    struct tq_monitor *monitor; /* NULL: heartbeats only */
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

/* A new alert in this process: every stream reads the store again. */
static void on_alert(void *ud, int64_t id)
{
    struct tq__http_events *ev = ud;

    (void)id;
    pthread_mutex_lock(&ev->lock);
    ev->alert_gen++;
    resume_all(ev);
    pthread_mutex_unlock(&ev->lock);
}

tq_rc tq__http_events_attach(struct tq__http_events *ev, struct tq_store *store,
                             struct tq_monitor *monitor, struct tq_err *err)
{
    ev->store = store;
    ev->monitor = monitor;
    return monitor ? tq_monitor_subscribe(monitor, on_alert, ev, err) : TQ_OK;
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
    if (ev->monitor) {
        tq_monitor_unsubscribe(ev->monitor, on_alert, ev);
        ev->monitor = NULL;
    }
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

static tq_rc alert_event(void *ud, const struct tq_store_alert *a)
{
    struct stream *s = ud;
    tq_rc rc;

    rc = tq_buf_printf(&s->pending, "id: %lld\nevent: alert\ndata: ", (long long)a->id);
    if (rc == TQ_OK)
        rc = tq_alert_json(a, &s->pending, NULL);
    if (rc == TQ_OK)
        rc = tq_buf_append_c(&s->pending, "\n\n");
    if (rc == TQ_OK)
        s->last_id = a->id;
    return rc;
}

/* Queue the alerts after s->last_id that the user may see; false when the store failed. */
static bool read_alerts(struct stream *s)
{
    struct tq_store_reader reader = {s->key, NULL};
    struct tq_store_alert_query q = {0};
    struct tq_err err = {0};

    q.reader = &reader;
    q.after_id = s->last_id;
    q.limit = ALERTS_PER_READ;
    if (tq_store_alerts(s->ev->store, &q, alert_event, s, &s->more, &err) != TQ_OK) {
        tq_log(TQ_LOG_WARN, "http: event stream: alerts not read: %s", err.msg);
        s->more = false;
        return false;
    }
    return true;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    struct tq__http_events *ev = s->ev;
    char now[TQ_TIME_STR_MAX];
    bool heartbeat, alerts;
    size_t n;

    (void)pos;
    for (;;) {
        if (s->off < s->pending.len) {
            n = s->pending.len - s->off < max ? s->pending.len - s->off : max;
            memcpy(buf, s->pending.ptr + s->off, n);
            s->off += n;
            return (ssize_t)n;
        }
        tq_buf_reset(&s->pending);
        s->off = 0;
        pthread_mutex_lock(&ev->lock);
        if (ev->closing) {
            pthread_mutex_unlock(&ev->lock);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        heartbeat = s->sent != ev->ticks;
        alerts = ev->monitor && (heartbeat || s->more || s->alert_seen != ev->alert_gen);
        if (!heartbeat && !alerts) {
            s->suspended = true;
            MHD_suspend_connection(s->conn);
            pthread_mutex_unlock(&ev->lock);
            return 0;
        }
        s->sent = ev->ticks;
        s->alert_seen = ev->alert_gen;
        pthread_mutex_unlock(&ev->lock);
        if (alerts)
            read_alerts(s);
        if (heartbeat) {
            tq_time_format_ms(tq_time_now_us(), now);
            if (tq_buf_printf(&s->pending, "event: heartbeat\ndata: {\"time\":\"%s\"}\n\n", now))
                return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
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
    tq_buf_cleanup(&s->pending);
    tq_free(s);
}

static tq_rc newest_cb(void *ud, const struct tq_store_alert *a)
{
    ((struct tq_store_alert *)ud)->id = a->id;
    return TQ_OK;
}

/*
 * Where a stream starts: after Last-Event-ID (or ?after=N) when given, else after the newest
 * alert the user may see now. False for a malformed id.
 */
static bool start_after(struct tq__http_req *rq, const char *key, int64_t *out)
{
    struct tq_store_reader reader = {key, NULL};
    struct tq_store_alert_query q = {0};
    struct tq_store_alert newest = {0};
    struct tq_err err = {0};
    const char *v;
    char text[24];
    size_t len = 0;
    bool more;

    *out = 0;
    v = tq__http_req_header(rq, "Last-Event-ID", &len);
    if (!v && rq->query.len > 6 && strncmp(rq->query.ptr, "after=", 6) == 0) {
        v = rq->query.ptr + 6;
        len = rq->query.len - 6;
    }
    if (v) {
        char *end;
        long long id;

        if (len == 0 || len >= sizeof(text))
            return len == 0;
        memcpy(text, v, len);
        text[len] = '\0';
        id = strtoll(text, &end, 10);
        if (*end || id < 0)
            return false;
        *out = id;
        return true;
    }
    if (!rq->srv->events->monitor)
        return true;
    q.reader = &reader;
    q.newest_first = true;
    q.limit = 1;
    if (tq_store_alerts(rq->srv->events->store, &q, newest_cb, &newest, &more, &err) == TQ_OK)
        *out = newest.id;
    return true;
}

static void events_complete(struct tq__http_req *rq, struct tq__http_resp *resp)
{
    struct tq__http_events *ev = rq->srv->events;
    struct stream *s;
    char key[TQ_AUTH_USER_MAX + 16];
    int64_t after = 0;

    if (!tq__access_principal_key(&rq->who, key, sizeof(key))) {
        tq__http_resp_text(resp, 403, "the event stream is for users");
        return;
    }
    if (!start_after(rq, key, &after)) {
        tq__http_resp_text(resp, 400, "Last-Event-ID must be an alert id");
        return;
    }

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
    s->last_id = after;
    s->more = after > 0; /* a resume reads what it missed at once */
    memcpy(s->key, key, sizeof(s->key));
    tq_buf_init(&s->pending, PENDING_MAX);
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
