/* SPDX-License-Identifier: Apache-2.0
 *
 * http/conn.c - connection governance: admission, deadlines, shedding and the refusal log.
 *
 * libmicrohttpd's idle timeout restarts on every byte, and it refuses new connections blindly
 * once its limit is reached. This file keeps every connection on one list with a table of live
 * and waiting connections per source address, sheds waiting connections to make room for new
 * ones, closes waiting connections at deadlines that bytes do not move, and writes one summary
 * line of refusals every REFUSAL_LOG_EVERY_S. A request in progress (an event stream included)
 * is never shed and has no deadline of ours. docs/internals/http.md has the numbers and why.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/http.h"

#define HEADER_DEADLINE_S 10 /* a request's headers, from the connection's start or last answer */
#define HANDSHAKE_DEADLINE_S 10 /* a TLS handshake, before the first request's headers */
#define SWEEP_EVERY_MS 200      /* how often the deadlines are checked */
#define REFUSAL_LOG_EVERY_S 10  /* one summary line of refused and closed connections */
#define REFUSAL_ADDRS 16        /* source addresses named in one summary line */
#define MHD_LOG_LINES_MAX 5     /* libmicrohttpd messages logged per interval, the rest counted */
#define TRIM_IDLE_S 5           /* idle seconds after which the heap is given back */
#define SHED_MIN_WAIT_MS 2000   /* below the last slots, shed only after waiting this long */

/* ---- logging ---------------------------------------------------------------------------- */

/*
 * libmicrohttpd's messages: its refusals at the connection limit are only counted (they come
 * once per refused connection, without the address), the rest is logged up to
 * MHD_LOG_LINES_MAX lines per REFUSAL_LOG_EVERY_S and counted beyond; the sweeper writes the
 * counts into its summary line.
 */
struct mhd_log_counts {
    _Atomic uint64_t at_limit;   /* "reached connection limit" messages */
    _Atomic uint64_t lines;      /* messages in this interval */
    _Atomic uint64_t suppressed; /* ... beyond MHD_LOG_LINES_MAX */
};

/* ---- connections: admission, deadlines, shedding ---------------------------------------- */

/*
 * Every connection is on one list from libmicrohttpd's STARTED notification to its CLOSED
 * one, which comes before libmicrohttpd closes the socket: so under gov->lock the fd of a
 * listed connection is still that connection's, and shutdown(2) on it from another thread
 * makes its worker see end-of-stream and close it.
 *
 * A connection is *waiting* while no request is in the access handler: before its first
 * request's headers are in (TLS handshake included), or between two requests. Waiting
 * connections have a deadline that bytes do not move (docs/internals/http.md); requests in
 * progress are left to libmicrohttpd's idle timeout. When the live connections reach the soft
 * limit, each new one sheds a waiting connection that has waited SHED_MIN_WAIT_MS or more;
 * when they reach the last slots before the hard limit (gov->last_slots), any waiting one. The
 * victim is first one that never completed a request, then one from the source address that
 * holds most waiting connections, then the oldest. The wait keeps a busy but honest load near
 * the limit from shedding connections still in their TLS handshake, each of which would come
 * back and shed another (a reconnect storm); trickling and idle clients wait for seconds and
 * are shed all the same.
 */
enum { SLOT_EMPTY = 0, SLOT_USED, SLOT_GONE };

struct addr_slot {
    struct tq__http_addr key;
    uint32_t conns;   /* live (not shut) connections */
    uint32_t waiting; /* ... of which waiting */
    uint8_t state;
};

struct tally {
    struct tq__http_addr key;
    uint32_t limit;    /* refused at accept: per-address or total limit */
    uint32_t shed;     /* waiting connections shut to make room */
    uint32_t deadline; /* waiting connections shut at their deadline */
};

struct tq__http_gov {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t sweeper;
    bool sweeper_started;
    bool stopping;
    struct tq__http_conn *head, *tail; /* oldest first */
    unsigned live;                     /* listed and not shut */
    int64_t busy_mono_us;              /* the last sweep that saw a request running */
    int64_t trimmed_mono_us;           /* the last time the heap was given back */
    unsigned max_conns, soft_limit, last_slots, per_ip;
    int64_t first_deadline_us; /* first request's headers, from the start or the handshake */
    int64_t handshake_us;      /* a TLS handshake, from the start */
    int64_t next_deadline_us;  /* next request's headers, from the end of the previous answer */
    struct addr_slot *slots;
    size_t nslots, gone; /* power of two; tombstones */
    struct tally tally[REFUSAL_ADDRS];
    size_t ntally;
    struct tally other; /* addresses beyond REFUSAL_ADDRS */
    int64_t tally_since_us;
    struct mhd_log_counts mhd_log; /* counts of tq__http_gov_mhd_log */
};

void tq__http_gov_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct mhd_log_counts *mc = &((struct tq__http_gov *)cls)->mhd_log;
    char line[512];
    size_t n;

    vsnprintf(line, sizeof(line), fmt, ap);
    if (strstr(line, "reached connection limit")) {
        atomic_fetch_add(&mc->at_limit, 1);
        return;
    }
    if (atomic_fetch_add(&mc->lines, 1) >= MHD_LOG_LINES_MAX) {
        atomic_fetch_add(&mc->suppressed, 1);
        return;
    }
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    tq_log(TQ_LOG_WARN, "http: mhd=\"%s\"", line);
}

static void addr_key_from(const struct sockaddr *sa, struct tq__http_addr *k)
{
    memset(k, 0, sizeof(*k));
    if (!sa)
        return;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        k->b[10] = 0xff;
        k->b[11] = 0xff;
        memcpy(k->b + 12, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        memcpy(k->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
}

static void addr_key_str(const struct tq__http_addr *k, char *out, size_t out_size)
{
    static const uint8_t v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (memcmp(k->b, v4, 12) == 0)
        inet_ntop(AF_INET, k->b + 12, out, (socklen_t)out_size);
    else
        inet_ntop(AF_INET6, k->b, out, (socklen_t)out_size);
}

static size_t addr_hash(const struct tq__http_addr *k)
{
    uint64_t h = 1469598103934665603u;
    size_t i;

    for (i = 0; i < sizeof(k->b); i++)
        h = (h ^ k->b[i]) * 1099511628211u;
    return (size_t)h;
}

/* The slot of an address; with create, a new one when absent. NULL: absent (or table full). */
static struct addr_slot *slot_get(struct tq__http_gov *g, const struct tq__http_addr *k,
                                  bool create)
{
    size_t mask = g->nslots - 1, i = addr_hash(k) & mask, n;
    struct addr_slot *free_slot = NULL;

    for (n = 0; n < g->nslots; n++, i = (i + 1) & mask) {
        struct addr_slot *s = &g->slots[i];
        if (s->state == SLOT_EMPTY) {
            if (!free_slot)
                free_slot = s;
            break;
        }
        if (s->state == SLOT_GONE) {
            if (!free_slot)
                free_slot = s;
            continue;
        }
        if (memcmp(s->key.b, k->b, sizeof(k->b)) == 0)
            return s;
    }
    if (!create || !free_slot)
        return NULL;
    if (free_slot->state == SLOT_GONE)
        g->gone--;
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->key = *k;
    free_slot->state = SLOT_USED;
    return free_slot;
}

/* Rebuild the table from the list when tombstones make probes long. */
static void slots_rebuild(struct tq__http_gov *g)
{
    struct tq__http_conn *c;

    memset(g->slots, 0, g->nslots * sizeof(*g->slots));
    g->gone = 0;
    for (c = g->head; c; c = c->next) {
        struct addr_slot *s;
        if (c->shut)
            continue;
        s = slot_get(g, &c->addr, true);
        s->conns++;
        if (!c->in_request)
            s->waiting++;
    }
}

static void slot_drop(struct tq__http_gov *g, struct addr_slot *s)
{
    if (s->conns > 0)
        return;
    s->state = SLOT_GONE;
    if (++g->gone > g->nslots / 2)
        slots_rebuild(g);
}

static struct tally *tally_get(struct tq__http_gov *g, const struct tq__http_addr *k)
{
    size_t i;

    for (i = 0; i < g->ntally; i++) {
        if (memcmp(g->tally[i].key.b, k->b, sizeof(k->b)) == 0)
            return &g->tally[i];
    }
    if (g->ntally == REFUSAL_ADDRS)
        return &g->other;
    memset(&g->tally[g->ntally], 0, sizeof(g->tally[0]));
    g->tally[g->ntally].key = *k;
    return &g->tally[g->ntally++];
}

/* Take a connection out of the live counts (shut down by us, or closed). Under g->lock. */
static void conn_uncount(struct tq__http_gov *g, struct tq__http_conn *c)
{
    struct addr_slot *s = slot_get(g, &c->addr, false);

    g->live--;
    if (s) {
        s->conns--;
        if (!c->in_request)
            s->waiting--;
        slot_drop(g, s);
    }
}

/* Shut a waiting connection down; its worker closes it. Under g->lock. */
static void conn_shut(struct tq__http_gov *g, struct tq__http_conn *c)
{
    shutdown(c->fd, SHUT_RDWR);
    c->shut = true;
    conn_uncount(g, c);
}

/*
 * The waiting connection to shed, among those waiting since waited_before or earlier: never
 * served before served, then the address holding most waiting connections, then the oldest.
 * NULL when there is none.
 */
static struct tq__http_conn *shed_victim(struct tq__http_gov *g, int64_t waited_before)
{
    struct tq__http_conn *c, *best = NULL;
    uint64_t best_score = 0;

    for (c = g->head; c; c = c->next) {
        struct addr_slot *s;
        uint64_t score;
        if (c->shut || c->in_request || c->waiting_mono_us > waited_before)
            continue;
        s = slot_get(g, &c->addr, false);
        score = ((uint64_t)!c->served << 32) | (s ? s->waiting : 1);
        if (!best || score > best_score) {
            best = c;
            best_score = score;
        }
    }
    return best;
}

/* Accept policy: the per-address limit, and room made under the soft limit by shedding. */
enum MHD_Result tq__http_gov_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct tq__http_gov *g = cls;
    struct tq__http_addr k;
    struct addr_slot *s;
    enum MHD_Result ok = MHD_YES;

    (void)addrlen;
    addr_key_from(addr, &k);
    pthread_mutex_lock(&g->lock);
    s = slot_get(g, &k, false);
    if (s && s->conns >= g->per_ip) {
        tally_get(g, &k)->limit++;
        ok = MHD_NO;
    } else if (g->live >= g->soft_limit) {
        int64_t before =
            g->live >= g->last_slots ? INT64_MAX : tq_time_mono_us() - SHED_MIN_WAIT_MS * 1000;
        struct tq__http_conn *v = shed_victim(g, before);
        if (v) {
            tally_get(g, &v->addr)->shed++;
            conn_shut(g, v);
        } else if (g->live >= g->max_conns) {
            tally_get(g, &k)->limit++;
            ok = MHD_NO;
        }
    }
    pthread_mutex_unlock(&g->lock);
    return ok;
}

void tq__http_gov_conn_started(struct tq__http_gov *g, struct MHD_Connection *mc,
                               struct tq__http_conn *c, bool tls)
{
    const union MHD_ConnectionInfo *ci;
    struct addr_slot *s;

    ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->fd = ci ? ci->connect_fd : -1;
    ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    addr_key_from(ci ? ci->client_addr : NULL, &c->addr);
    c->started_mono_us = tq_time_mono_us();
    c->waiting_mono_us = c->started_mono_us;
    c->deadline_mono_us = c->started_mono_us + g->first_deadline_us + (tls ? g->handshake_us : 0);
    pthread_mutex_lock(&g->lock);
    c->prev = g->tail;
    if (g->tail)
        g->tail->next = c;
    else
        g->head = c;
    g->tail = c;
    g->live++;
    s = slot_get(g, &c->addr, true);
    if (s) {
        s->conns++;
        s->waiting++;
    }
    pthread_mutex_unlock(&g->lock);
}

void tq__http_gov_conn_closed(struct tq__http_gov *g, struct tq__http_conn *c)
{
    pthread_mutex_lock(&g->lock);
    if (!c->shut)
        conn_uncount(g, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        g->tail = c->prev;
    pthread_mutex_unlock(&g->lock);
}

/*
 * A request's headers are in (in_request, on the first access-handler call); or its answer is
 * done, or it was refused and only its body is still read and dropped (not in_request: the
 * connection is waiting again, under the next-request deadline and sheddable). served: the
 * request was answered, not refused; a refused one (401 included) does not make a connection
 * served.
 */
void tq__http_gov_conn_set(struct tq__http_gov *g, struct tq__http_conn *c, bool in_request,
                           bool served)
{
    struct addr_slot *s;

    pthread_mutex_lock(&g->lock);
    if (c->in_request != in_request) {
        c->in_request = in_request;
        s = c->shut ? NULL : slot_get(g, &c->addr, false);
        if (s && in_request)
            s->waiting--;
        else if (s)
            s->waiting++;
    }
    if (!in_request) {
        c->waiting_mono_us = tq_time_mono_us();
        c->deadline_mono_us = c->waiting_mono_us + g->next_deadline_us;
    }
    if (served)
        c->served = true;
    pthread_mutex_unlock(&g->lock);
}

static void tally_fmt(const struct tally *t, const char *name, char *out, size_t out_size)
{
    snprintf(out, out_size, " %s limit=%u shed=%u deadline=%u;", name, t->limit, t->shed,
             t->deadline);
}

/* The summary line of the last interval, when anything was refused or closed. Under g->lock. */
static bool tally_line(struct tq__http_gov *g, char *out, size_t out_size)
{
    uint64_t at_limit = atomic_exchange(&g->mhd_log.at_limit, 0);
    uint64_t suppressed = atomic_exchange(&g->mhd_log.suppressed, 0);
    size_t i, len;

    atomic_store(&g->mhd_log.lines, 0);
    if (g->ntally == 0 && at_limit == 0 && suppressed == 0)
        return false;
    snprintf(out, out_size, "http: in the last %ds refused or closed:", REFUSAL_LOG_EVERY_S);
    for (i = 0; i < g->ntally; i++) {
        char name[INET6_ADDRSTRLEN];
        len = strlen(out);
        addr_key_str(&g->tally[i].key, name, sizeof(name));
        tally_fmt(&g->tally[i], name, out + len, out_size - len);
    }
    if (g->other.limit || g->other.shed || g->other.deadline) {
        len = strlen(out);
        tally_fmt(&g->other, "other-addresses", out + len, out_size - len);
    }
    len = strlen(out);
    snprintf(out + len, out_size - len, " mhd_at_limit=%llu mhd_log_suppressed=%llu live=%u",
             (unsigned long long)at_limit, (unsigned long long)suppressed, g->live);
    g->ntally = 0;
    memset(&g->other, 0, sizeof(g->other));
    return true;
}

/* Shuts waiting connections down at their deadline; writes the summary line. */
static void *sweeper_main(void *arg)
{
    struct tq__http_gov *g = arg;
    char line[2048];

    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        struct timespec ts;
        struct tq__http_conn *c;
        int64_t now;
        bool emit = false, busy;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += SWEEP_EVERY_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->wake, &g->lock, &ts);
        if (g->stopping)
            break;
        now = tq_time_mono_us();
        busy = false;
        for (c = g->head; c; c = c->next) {
            busy = busy || c->in_request;
            if (c->shut || c->in_request || now < c->deadline_mono_us)
                continue;
            tally_get(g, &c->addr)->deadline++;
            conn_shut(g, c);
        }
        /*
         * Once no request has run for TRIM_IDLE_S, give back the free pages inside the heap
         * (the arenas' tops are trimmed on free, above M_TRIM_THRESHOLD), so the RSS returns
         * near its baseline after a load.
         */
        if (busy)
            g->busy_mono_us = now;
        if (!busy && g->busy_mono_us > g->trimmed_mono_us &&
            now - g->busy_mono_us >= TRIM_IDLE_S * (int64_t)1000000) {
            g->trimmed_mono_us = now;
            pthread_mutex_unlock(&g->lock);
            malloc_trim(0);
            pthread_mutex_lock(&g->lock);
        }
        if (now - g->tally_since_us >= REFUSAL_LOG_EVERY_S * (int64_t)1000000) {
            g->tally_since_us = now;
            emit = tally_line(g, line, sizeof(line));
        }
        if (emit) {
            pthread_mutex_unlock(&g->lock);
            tq_log(TQ_LOG_WARN, "%s", line);
            pthread_mutex_lock(&g->lock);
        }
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

struct tq__http_gov *tq__http_gov_new(unsigned max_conns, unsigned per_ip, unsigned timeout_s)
{
    struct tq__http_gov *g = tq_xcalloc(1, sizeof(*g));
    unsigned headroom = max_conns / 8 > 4 ? max_conns / 8 : 4;
    unsigned hdr_s = timeout_s < HEADER_DEADLINE_S ? timeout_s : HEADER_DEADLINE_S;
    unsigned hs_s = timeout_s < HANDSHAKE_DEADLINE_S ? timeout_s : HANDSHAKE_DEADLINE_S;

    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->wake, NULL);
    g->max_conns = max_conns;
    g->soft_limit = max_conns > headroom ? max_conns - headroom : 1;
    /* The last max(max/128, 2) slots (8 of 1,024): a margin for connections shut but not yet
     * closed, which libmicrohttpd still counts. */
    g->last_slots = max_conns - (max_conns / 128 > 2 ? max_conns / 128 : 2);
    if (g->last_slots < g->soft_limit)
        g->last_slots = g->soft_limit;
    g->per_ip = per_ip;
    g->first_deadline_us = (int64_t)hdr_s * 1000000;
    g->handshake_us = (int64_t)hs_s * 1000000;
    g->next_deadline_us = ((int64_t)timeout_s + hdr_s) * 1000000;
    g->nslots = 256;
    while (g->nslots < 4 * (size_t)max_conns)
        g->nslots *= 2;
    g->slots = tq_xcalloc(g->nslots, sizeof(*g->slots));
    g->tally_since_us = tq_time_mono_us();
    return g;
}

tq_rc tq__http_gov_start(struct tq__http_gov *g, struct tq_err *err)
{
    if (pthread_create(&g->sweeper, NULL, sweeper_main, g) != 0)
        return tq_err_set(err, TQ_EIO, "cannot start the connection sweeper thread");
    g->sweeper_started = true;
    return TQ_OK;
}

void tq__http_gov_free(struct tq__http_gov *g)
{
    if (!g)
        return;
    if (g->sweeper_started) {
        pthread_mutex_lock(&g->lock);
        g->stopping = true;
        pthread_cond_signal(&g->wake);
        pthread_mutex_unlock(&g->lock);
        pthread_join(g->sweeper, NULL);
    }
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    tq_free(g->slots);
    tq_free(g);
}

struct tq__http_conn *tq__http_conn_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}
