/* SPDX-License-Identifier: Apache-2.0
 *
 * http/server.c - the TAXII 2.1 server on libmicrohttpd: TLS, limits, authentication and
 * routing; the resources themselves are in src/taxii.
 *
 * One request goes through three access-handler calls at most. The first only records the
 * request and runs the checks that need no body (route, method, Accept, credentials,
 * Content-Type, Content-Length, collection access); answering already there makes
 * libmicrohttpd close keep-alive connections, so the answer waits for the next call. Upload
 * calls append the body to a buffer capped at max_content_length, or discard it when the
 * request already failed. The final call answers. Per-request state is created in the URI
 * log callback (which also gives the raw request target, query string included) and freed in
 * the completion callback. docs/internals/http.md explains the daemon options.
 *
 * A request's principal is a user (Authorization header: Basic or Bearer) or, when the request
 * carries no Authorization header, a partner node known by the TLS client certificate it
 * presented (http/peer.c pins it by SHA-256). The server asks every TLS client for a
 * certificate but requires none; a request with neither is answered 401.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <malloc.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <sodium.h>

#include "http/http.h"
#include "tansiq/server.h"
#include "tansiq/witness.h"
#include "taxii/taxii.h"

#define DEFAULT_MAX_CONTENT (10u << 20)
#define DEFAULT_TIMEOUT_S 30
#define DEFAULT_MAX_CONNS 1024
#define DEFAULT_PER_IP 256
#define CONN_MEMORY_LIMIT (64u << 10) /* per connection: request line, headers, read buffer */
#define AUTH_CACHE_SLOTS 4096
#define AUTH_CACHE_TTL_US (60 * (int64_t)1000000)
#define PURGE_EVERY_US (600 * (int64_t)1000000)
#define HOST_MAX 255
#define HEADER_DEADLINE_S 10 /* a request's headers, from the connection's start or last answer */
#define HANDSHAKE_DEADLINE_S 10 /* a TLS handshake, before the first request's headers */
#define SWEEP_EVERY_MS 200      /* how often the deadlines are checked */
#define REFUSAL_LOG_EVERY_S 10  /* one summary line of refused and closed connections */
#define REFUSAL_ADDRS 16        /* source addresses named in one summary line */
#define MHD_LOG_LINES_MAX 5     /* libmicrohttpd messages logged per interval, the rest counted */
#define TRIM_IDLE_S 5           /* idle seconds after which the heap is given back */
#define SHED_MIN_WAIT_MS 2000   /* below the last slots, shed only after waiting this long */

struct tq_server {
    struct MHD_Daemon *daemon;
    struct tq_taxii_ctx taxii;
    struct tq_audit_log *audit;              /* borrowed; NULL: no /log/ */
    const struct tq_note_signer *log_signer; /* borrowed */
    const struct tq_note_signer *witness;    /* borrowed; NULL: no /log/add-checkpoint */
    struct tq__auth *auth;
    char *title;
    char *api_root;
    char default_host[HOST_MAX + 16]; /* listen address and port, for a missing Host */
    uint16_t port;
    bool tls;
    struct tq_buf cert_pem;
    struct tq_buf key_pem;
    _Atomic int64_t last_purge_us;
    struct gov *gov;  /* connection admission, deadlines and shedding */
    bool raw_framing; /* the library lays the header block out as framing_error expects */
};

/* Per-request state, from the URI log callback to the completion callback. */
struct req {
    struct tq_server *srv;
    char *target;          /* raw request target: path and query */
    bool started;          /* the first access-handler call has happened */
    const char *log_path;  /* a /log/ request: the path after "/log/" (in target) */
    bool log_add;          /* ... that is POST /log/add-checkpoint */
    bool log_openings;     /* ... that is GET /log/openings by an authenticated partner */
    const char *log_allow; /* the Allow header of a 405 under /log/ */
    enum tq_taxii_method method;
    struct tq_taxii_path path;
    struct tq_str query;
    char user[TQ_AUTH_USER_MAX]; /* the principal: a user, */
    char partner[TQ_NAME_MAX];   /* or a partner node (exactly one is non-empty) */
    int64_t received_us;

    /* an answer decided before the body was read */
    int err_status;
    char err_desc[256];
    bool err_auth;  /* add WWW-Authenticate */
    bool err_allow; /* add Allow */

    bool want_body; /* POST to objects that passed the checks */
    uint64_t body_seen;
    uint64_t drain_max; /* bytes of a refused body we read before giving up on the connection */
    struct tq_buf body;
};

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

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct mhd_log_counts *mc = cls;
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
struct addr_key {
    uint8_t b[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
};

struct conn {
    struct tq__peer peer; /* the client certificate's resolution (http/peer.c) */
    struct conn *prev, *next;
    int fd;
    struct addr_key addr;
    int64_t started_mono_us;
    int64_t deadline_mono_us; /* headers of the awaited request, when waiting */
    int64_t waiting_mono_us;  /* when it started waiting (its start, or its last answer) */
    bool in_request;          /* between the first access-handler call and completion */
    bool served;              /* completed a request */
    bool shut;                /* shut down by us, closing */
};

enum { SLOT_EMPTY = 0, SLOT_USED, SLOT_GONE };

struct addr_slot {
    struct addr_key key;
    uint32_t conns;   /* live (not shut) connections */
    uint32_t waiting; /* ... of which waiting */
    uint8_t state;
};

struct tally {
    struct addr_key key;
    uint32_t limit;    /* refused at accept: per-address or total limit */
    uint32_t shed;     /* waiting connections shut to make room */
    uint32_t deadline; /* waiting connections shut at their deadline */
};

struct gov {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t sweeper;
    bool sweeper_started;
    bool stopping;
    struct conn *head, *tail; /* oldest first */
    unsigned live;            /* listed and not shut */
    int64_t busy_mono_us;     /* the last sweep that saw a request running */
    int64_t trimmed_mono_us;  /* the last time the heap was given back */
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
    struct mhd_log_counts mhd_log; /* mhd_log's cls */
};

static void addr_key_from(const struct sockaddr *sa, struct addr_key *k)
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

static void addr_key_str(const struct addr_key *k, char *out, size_t out_size)
{
    static const uint8_t v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (memcmp(k->b, v4, 12) == 0)
        inet_ntop(AF_INET, k->b + 12, out, (socklen_t)out_size);
    else
        inet_ntop(AF_INET6, k->b, out, (socklen_t)out_size);
}

static size_t addr_hash(const struct addr_key *k)
{
    uint64_t h = 1469598103934665603u;
    size_t i;

    for (i = 0; i < sizeof(k->b); i++)
        h = (h ^ k->b[i]) * 1099511628211u;
    return (size_t)h;
}

/* The slot of an address; with create, a new one when absent. NULL: absent (or table full). */
static struct addr_slot *slot_get(struct gov *g, const struct addr_key *k, bool create)
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
static void slots_rebuild(struct gov *g)
{
    struct conn *c;

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

static void slot_drop(struct gov *g, struct addr_slot *s)
{
    if (s->conns > 0)
        return;
    s->state = SLOT_GONE;
    if (++g->gone > g->nslots / 2)
        slots_rebuild(g);
}

static struct tally *tally_get(struct gov *g, const struct addr_key *k)
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
static void conn_uncount(struct gov *g, struct conn *c)
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
static void conn_shut(struct gov *g, struct conn *c)
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
static struct conn *shed_victim(struct gov *g, int64_t waited_before)
{
    struct conn *c, *best = NULL;
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
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct gov *g = ((struct tq_server *)cls)->gov;
    struct addr_key k;
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
        struct conn *v = shed_victim(g, before);
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

static void conn_started(struct gov *g, struct MHD_Connection *mc, struct conn *c, bool tls)
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

static void conn_closed(struct gov *g, struct conn *c)
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
static void conn_set(struct gov *g, struct conn *c, bool in_request, bool served)
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

static struct conn *conn_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

static void tally_fmt(const struct tally *t, const char *name, char *out, size_t out_size)
{
    snprintf(out, out_size, " %s limit=%u shed=%u deadline=%u;", name, t->limit, t->shed,
             t->deadline);
}

/* The summary line of the last interval, when anything was refused or closed. Under g->lock. */
static bool tally_line(struct gov *g, char *out, size_t out_size)
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
    struct gov *g = arg;
    char line[2048];

    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        struct timespec ts;
        struct conn *c;
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

static struct gov *gov_new(unsigned max_conns, unsigned per_ip, unsigned timeout_s)
{
    struct gov *g = tq_xcalloc(1, sizeof(*g));
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

static void gov_free(struct gov *g)
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

/* ---- HTTP framing ----------------------------------------------------------------------- */

struct field_scan {
    unsigned content_length;
    const char *cl_value;
    size_t cl_len;
    bool cl_conflict;
    unsigned transfer_encoding;
};

static enum MHD_Result scan_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_size, const char *value, size_t value_size)
{
    struct field_scan *fs = cls;

    (void)kind;
    if (key_size == 14 && strncasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH, 14) == 0) {
        if (fs->content_length++ &&
            (value_size != fs->cl_len || memcmp(value, fs->cl_value, value_size) != 0))
            fs->cl_conflict = true;
        fs->cl_value = value;
        fs->cl_len = value_size;
    } else if (key_size == 17 && strncasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING, 17) == 0) {
        fs->transfer_encoding++;
    }
    return MHD_YES;
}

/*
 * The header block as received, after libmicrohttpd 0.9.75 parsed it in place: it starts at
 * the method, is header_size bytes long, every line terminator it accepted is overwritten with
 * NULs (CRLF with two, a bare LF with one) and so is the colon after each field name. A
 * well-formed block is therefore: request line, then lines "name\0value\0\0", then "\0\0".
 * A bare LF leaves one NUL where two belong, a NUL sent in a value stops the value early with
 * bytes after it, a CR not followed by LF stays in the value, and a line starting with SP or
 * HT is obsolete folding. NULL when the block is well-formed, else the reason.
 */
static const char *framing_error(struct MHD_Connection *conn, const char *method,
                                 const char *version)
{
    const union MHD_ConnectionInfo *ci;
    const char *p, *end;

    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (!ci || !method || !version)
        return "malformed request";
    end = method + ci->header_size;
    if (version < method || version >= end)
        return "the request line lacks an HTTP version";
    p = version + strnlen(version, (size_t)(end - version));
    for (;;) {
        if (end - p < 2 || p[0] != '\0' || p[1] != '\0')
            return "a header line ends in a bare LF or holds a NUL";
        p += 2;
        if (p < end && *p == '\0')
            return end - p == 2 && p[1] == '\0' ? NULL : "the header block ends in a bare LF";
        if (p >= end)
            return "malformed header block";
        if (*p == ' ' || *p == '\t')
            return "obsolete line folding";
        while (p < end && *p != '\0') {
            if (*p == '\r')
                return "a bare CR in a header line";
            p++;
        }
        if (p >= end)
            return "malformed header block";
        p++; /* the colon */
        while (p < end && *p != '\0') {
            if (*p == '\r')
                return "a bare CR in a header line";
            p++;
        }
    }
}

/* Framing that leaves the request's extent ambiguous, or fields that break RFC 9110/9112. */
static const char *request_framing_error(struct MHD_Connection *conn, const char *method,
                                         const char *version, bool check_raw)
{
    struct field_scan fs;

    memset(&fs, 0, sizeof(fs));
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, scan_field, &fs);
    if (fs.cl_conflict)
        return "conflicting Content-Length headers";
    if (fs.content_length && fs.transfer_encoding)
        return "Content-Length together with Transfer-Encoding";
    return check_raw ? framing_error(conn, method, version) : NULL;
}

/* ---- request state ---------------------------------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct req *rq = tq_xcalloc(1, sizeof(*rq));

    (void)conn;
    rq->srv = cls;
    rq->target = tq_xstrdup(uri ? uri : "");
    rq->received_us = tq_time_now_us();
    tq_buf_init(&rq->body, rq->srv->taxii.max_content_length);
    return rq;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req *rq = *con_cls;

    struct tq_server *srv = cls;
    struct conn *c = conn_of(conn);

    if (c)
        conn_set(srv->gov, c, false,
                 rq && rq->started && rq->err_status == 0 &&
                     toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    if (!rq)
        return;
    if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
        tq_log(TQ_LOG_DEBUG, "http: request timed out");
    tq_buf_cleanup(&rq->body);
    tq_free(rq->target);
    tq_free(rq);
    *con_cls = NULL;
}

/* Per-connection state: struct conn (its place in the admission list, and what the client
 * certificate resolved to). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct tq_server *srv = cls;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn *c = tq_xcalloc(1, sizeof(*c));
        conn_started(srv->gov, conn, c, srv->tls);
        *socket_context = c;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        conn_closed(srv->gov, *socket_context);
        tq_free(*socket_context);
        *socket_context = NULL;
    }
}

/* ---- helpers ---------------------------------------------------------------------------- */

static const char *header(struct MHD_Connection *conn, const char *name, size_t *len)
{
    const char *v = NULL;

    *len = 0;
    if (MHD_lookup_connection_value_n(conn, MHD_HEADER_KIND, name, strlen(name), &v, len) !=
        MHD_YES)
        return NULL;
    return v;
}

static void fail(struct req *rq, int status, const char *desc)
{
    size_t n = strnlen(desc, sizeof(rq->err_desc) - 1);

    rq->err_status = status;
    memcpy(rq->err_desc, desc, n);
    rq->err_desc[n] = '\0';
    rq->want_body = false;
}

static enum tq_taxii_method parse_method(const char *m)
{
    if (strcmp(m, "GET") == 0)
        return TQ_METHOD_GET;
    if (strcmp(m, "HEAD") == 0)
        return TQ_METHOD_HEAD;
    if (strcmp(m, "POST") == 0)
        return TQ_METHOD_POST;
    if (strcmp(m, "DELETE") == 0)
        return TQ_METHOD_DELETE;
    return TQ_METHOD_OTHER;
}

/* Decimal Content-Length; false when absent or malformed. Saturates instead of wrapping. */
static bool content_length(struct MHD_Connection *conn, uint64_t *out)
{
    size_t len, i;
    const char *v = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH, &len);
    uint64_t n = 0;

    if (!v || len == 0)
        return false;
    for (i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        n = n > (UINT64_MAX - 9) / 10 ? UINT64_MAX : n * 10 + (uint64_t)(v[i] - '0');
    }
    *out = n;
    return true;
}

static bool expects_continue(struct MHD_Connection *conn)
{
    size_t len;
    const char *v = header(conn, MHD_HTTP_HEADER_EXPECT, &len);

    return v && len == 12 && strncasecmp(v, "100-continue", 12) == 0;
}

/* The request announces a body: a Content-Length above 0, or a Transfer-Encoding. */
static bool has_body(struct MHD_Connection *conn)
{
    uint64_t cl = 0;
    size_t len;

    if (header(conn, MHD_HTTP_HEADER_TRANSFER_ENCODING, &len))
        return true;
    return content_length(conn, &cl) && cl > 0;
}

/* Only host names, IPv4 and bracketed IPv6 literals with a port are reflected. */
static bool host_ok(const char *h, size_t len)
{
    size_t i;

    if (len == 0 || len > HOST_MAX)
        return false;
    for (i = 0; i < len; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
            return false;
    }
    return true;
}

static void base_url(const struct tq_server *srv, struct MHD_Connection *conn, char *out,
                     size_t out_size)
{
    size_t len;
    const char *h = header(conn, MHD_HTTP_HEADER_HOST, &len);
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

/* ---- responses -------------------------------------------------------------------------- */

static enum MHD_Result send_resp(struct MHD_Connection *conn, struct tq_taxii_resp *resp,
                                 bool www_auth)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t len = 0;
    char *body = tq_buf_take(&resp->body, &len);

    r = tq__http_response_new(conn, body, len);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, TQ_TAXII_MEDIA);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (resp->has_dates) {
        MHD_add_response_header(r, "X-TAXII-Date-Added-First", resp->date_first);
        MHD_add_response_header(r, "X-TAXII-Date-Added-Last", resp->date_last);
    }
    if (resp->ignored[0])
        MHD_add_response_header(r, "Tansiq-Ignored-Filters", resp->ignored);
    if (resp->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
    if (www_auth)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"tansiq\", Bearer realm=\"tansiq\"");
    ret = MHD_queue_response(conn, (unsigned int)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static const char *principal_kind(const struct req *rq)
{
    return rq->partner[0] ? "partner" : "user";
}

static const char *principal_name(const struct req *rq)
{
    if (rq->partner[0])
        return rq->partner;
    return rq->user[0] ? rq->user : "-";
}

static enum MHD_Result send_error(struct MHD_Connection *conn, struct req *rq)
{
    struct tq_taxii_resp resp;
    enum MHD_Result ret;

    if (rq->log_path)
        return (enum MHD_Result)tq__http_log_text(conn, (unsigned)rq->err_status, rq->err_desc,
                                                  rq->log_allow);
    tq__taxii_resp_init(&resp);
    tq__taxii_error(&resp, rq->err_status, NULL, rq->err_desc);
    if (rq->err_allow)
        resp.allow = tq__taxii_route_allow(rq->path.route);
    tq_log(TQ_LOG_DEBUG, "http: route=%d status=%d %s=%s", (int)rq->path.route, rq->err_status,
           principal_kind(rq), principal_name(rq));
    ret = send_resp(conn, &resp, rq->err_auth);
    tq__taxii_resp_cleanup(&resp);
    return ret;
}

/* ---- authentication --------------------------------------------------------------------- */

/*
 * The client certificate of a TLS connection: its leaf DER, borrowed from the session. False
 * when the client presented none. GnuTLS completed the handshake only if the client signed it
 * with the key of this certificate (CertificateVerify): that is the proof of possession this
 * server relies on; the certificate itself is then checked against the partners' pins.
 */
static bool client_cert(struct MHD_Connection *conn, gnutls_datum_t *der)
{
    const union MHD_ConnectionInfo *ci;
    const gnutls_datum_t *peers;
    gnutls_session_t session;
    unsigned n = 0;

    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return false;
    session = (gnutls_session_t)ci->tls_session;
    if (gnutls_certificate_type_get(session) != GNUTLS_CRT_X509)
        return false;
    peers = gnutls_certificate_get_peers(session, &n);
    if (!peers || n == 0 || !peers[0].data || peers[0].size == 0)
        return false;
    *der = peers[0];
    return true;
}

/*
 * Find the request's principal: the user of the Authorization header when there is one
 * (credentials win), else the partner whose pinned certificate the client presented, else
 * nobody (TQ_EAUTH). Fills rq->user or rq->partner on TQ_OK.
 */
static tq_rc authenticate(struct tq_server *srv, struct MHD_Connection *conn, struct req *rq,
                          struct tq_err *err)
{
    const union MHD_ConnectionInfo *ci;
    struct tq__auth_cred cred;
    gnutls_datum_t der = {NULL, 0};
    bool has_cert = false;
    const char *v;
    size_t len;
    tq_rc rc;

    v = header(conn, MHD_HTTP_HEADER_AUTHORIZATION, &len);
    if (srv->tls && !v)
        has_cert = client_cert(conn, &der);
    switch (tq__http_principal_source(v != NULL, has_cert)) {
    case TQ_PRINCIPAL_FROM_CERT:
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        if (!ci || !ci->socket_context)
            return tq_err_set(err, TQ_EAUTH, "the client certificate is not a partner's");
        return tq__http_peer_resolve(&((struct conn *)ci->socket_context)->peer, srv->taxii.store,
                                     der.data, der.size, tq_time_now_us() / 1000000,
                                     tq_time_mono_us(), rq->partner, err);
    case TQ_PRINCIPAL_FROM_CREDENTIALS:
    case TQ_PRINCIPAL_FROM_NONE:
    default:
        rc = tq__http_auth_parse(v, len, &cred, err);
        if (rc == TQ_OK)
            rc = tq__auth_verify(srv->auth, srv->taxii.store, &cred, rq->user, err);
        tq__auth_cred_wipe(&cred);
        return rc;
    }
}

/* ---- the three phases ------------------------------------------------------------------- */

/*
 * GET /log/openings: the one resource under /log/ that is not public. It hands a partner node
 * the openings of the leaves naming it, so only a request authenticated by a partner's pinned
 * client certificate gets it; users, whatever their credentials, and anonymous callers get 403.
 */
static void check_openings(struct tq_server *srv, struct MHD_Connection *conn, struct req *rq)
{
    struct tq_err err = {0};
    tq_rc rc;

    if (rq->method != TQ_METHOD_GET && rq->method != TQ_METHOD_HEAD) {
        fail(rq, 405, "the log is read-only");
        rq->log_allow = "GET, HEAD";
        return;
    }
    rc = authenticate(srv, conn, rq, &err);
    if (rc == TQ_OK && rq->partner[0]) {
        rq->log_openings = true;
        return;
    }
    rq->user[0] = '\0';
    rq->partner[0] = '\0';
    if (rc && rc != TQ_EAUTH) {
        tq_log(TQ_LOG_ERROR, "http: authentication failed rc=%s detail=%s", tq_rc_name(rc),
               err.msg);
        fail(rq, tq_rc_http_status(rc), tq_rc_str(rc));
        return;
    }
    fail(rq, 403,
         "openings are given only to a partner node, authenticated by its pinned client "
         "certificate");
}

/* Everything that can be decided from the request line and headers alone. */
static void check_headers(struct tq_server *srv, struct MHD_Connection *conn, struct req *rq,
                          const char *method)
{
    struct tq_err err = {0};
    const char *v, *q;
    size_t len;
    uint64_t cl;
    tq_rc rc;

    rq->method = parse_method(method);
    /*
     * The audit log is public (tlog-tiles): no authentication, no TAXII content negotiation.
     * add-checkpoint (tlog-witness) is the one POST: its body is read like a TAXII POST's,
     * capped at TQ_WITNESS_BODY_MAX, and judged on the final call.
     */
    if (srv->audit && strncmp(rq->target, "/log/", 5) == 0) {
        rq->log_path = rq->target + 5;
        if (strncmp(rq->log_path, "openings", 8) == 0 &&
            (rq->log_path[8] == '\0' || rq->log_path[8] == '?')) {
            check_openings(srv, conn, rq);
            return;
        }
        if (strcmp(rq->log_path, "add-checkpoint") != 0) {
            if (rq->method != TQ_METHOD_GET && rq->method != TQ_METHOD_HEAD) {
                fail(rq, 405, "the log is read-only");
                rq->log_allow = "GET, HEAD";
            }
            return;
        }
        if (rq->method != TQ_METHOD_POST) {
            fail(rq, 405, "add-checkpoint takes POST only");
            rq->log_allow = "POST";
            return;
        }
        if (!srv->witness) {
            fail(rq, 404, "this node witnesses no log");
            return;
        }
        if (content_length(conn, &cl) && cl > TQ_WITNESS_BODY_MAX) {
            fail(rq, 413, "the request body exceeds the add-checkpoint limit");
            return;
        }
        tq_buf_cleanup(&rq->body);
        tq_buf_init(&rq->body, TQ_WITNESS_BODY_MAX);
        rq->log_add = true;
        rq->want_body = true;
        return;
    }
    q = strchr(rq->target, '?');
    if (q) {
        rq->query = (struct tq_str){q + 1, strlen(q + 1)};
    } else {
        rq->query = (struct tq_str){rq->target + strlen(rq->target), 0};
    }
    if (!tq__taxii_route(
            (struct tq_str){rq->target, q ? (size_t)(q - rq->target) : strlen(rq->target)},
            srv->api_root, &rq->path)) {
        fail(rq, 404, "no such resource");
        return;
    }
    if (!(tq__taxii_route_methods(rq->path.route) & (unsigned)rq->method)) {
        fail(rq, 405, "method not allowed on this resource");
        rq->err_allow = true;
        return;
    }
    v = header(conn, MHD_HTTP_HEADER_ACCEPT, &len);
    if (!tq__http_accept_ok(v, len)) {
        fail(rq, 406, "the Accept header must admit " TQ_TAXII_MEDIA);
        return;
    }

    rc = authenticate(srv, conn, rq, &err);
    if (rc == TQ_EAUTH) {
        rq->user[0] = '\0';
        rq->partner[0] = '\0';
        fail(rq, 401, err.msg);
        rq->err_auth = true;
        return;
    }
    if (rc) {
        rq->user[0] = '\0';
        rq->partner[0] = '\0';
        tq_log(TQ_LOG_ERROR, "http: authentication failed rc=%s detail=%s", tq_rc_name(rc),
               err.msg);
        fail(rq, tq_rc_http_status(rc), tq_rc_str(rc));
        return;
    }

    if (rq->method == TQ_METHOD_POST) {
        struct tq_collection c;
        bool r, w;

        v = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE, &len);
        if (!tq__http_content_type_charset_ok(v, len)) {
            fail(rq, 400, "the request body must be UTF-8 (Content-Type charset)");
            return;
        }
        if (!tq__http_content_type_ok(v, len)) {
            fail(rq, 415, "the Content-Type must be " TQ_TAXII_MEDIA);
            return;
        }
        if (content_length(conn, &cl) && cl > srv->taxii.max_content_length) {
            fail(rq, 413, "the request body exceeds max_content_length");
            return;
        }
        rc = tq__taxii_collection_access(&srv->taxii, rq->partner[0] ? NULL : rq->user,
                                         rq->partner[0] ? rq->partner : NULL, rq->path.seg1,
                                         TQ_NEED_WRITE, &c, &r, &w, &err);
        if (rc) {
            fail(rq, tq_rc_http_status(rc), tq_rc_http_status(rc) >= 500 ? tq_rc_str(rc) : err.msg);
            return;
        }
        tq_collection_cleanup(&c);
        rq->want_body = true;
    }
}

static enum MHD_Result serve(struct tq_server *srv, struct MHD_Connection *conn, struct req *rq)
{
    struct tq_taxii_req treq;
    struct tq_taxii_resp resp;
    char base[HOST_MAX + 16];
    enum MHD_Result ret;

    memset(&treq, 0, sizeof(treq));
    base_url(srv, conn, base, sizeof(base));
    treq.method = rq->method == TQ_METHOD_HEAD ? TQ_METHOD_GET : rq->method;
    treq.path = rq->path;
    treq.user = rq->partner[0] ? NULL : rq->user;
    treq.partner = rq->partner[0] ? rq->partner : NULL;
    treq.base_url = base;
    treq.query = rq->query;
    treq.body = (struct tq_str){rq->body.ptr ? rq->body.ptr : "", rq->body.len};
    treq.received_us = rq->received_us;
    if (rq->method == TQ_METHOD_POST)
        maybe_purge(srv);

    tq__taxii_resp_init(&resp);
    tq__taxii_handle(&srv->taxii, &treq, &resp);
    tq_log(TQ_LOG_DEBUG, "http: route=%d status=%d %s=%s bytes=%zu", (int)rq->path.route,
           resp.status, principal_kind(rq), principal_name(rq), resp.body.len);
    ret = send_resp(conn, &resp, false);
    tq__taxii_resp_cleanup(&resp);
    return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct tq_server *srv = cls;
    struct req *rq = *con_cls;
    uint64_t cl = 0;

    if (!rq) {
        rq = on_uri(srv, url, conn);
        *con_cls = rq;
    }
    if (!rq->started) {
        struct conn *c = conn_of(conn);
        const char *bad;

        rq->started = true;
        if (c)
            conn_set(srv->gov, c, true, false);
        /* Ambiguous framing is answered at once: the connection is closed after the answer,
         * since where this request ends, and the next begins, is unknown. */
        bad = request_framing_error(conn, method, version, srv->raw_framing);
        if (bad) {
            rq->method = parse_method(method);
            fail(rq, 400, bad);
            return send_error(conn, rq);
        }
        rq->drain_max = 2 * (uint64_t)srv->taxii.max_content_length + (64u << 10);
        check_headers(srv, conn, rq, method);
        /* A refused request with a body: answer now when the client waits for
         * "100 Continue" (it will not send the body) or announced more than we are willing
         * to drain; otherwise read and drop the body first, so that the client, still
         * writing, is not reset before it reads the answer. */
        if (rq->err_status &&
            (expects_continue(conn) || (content_length(conn, &cl) && cl > rq->drain_max)))
            return send_error(conn, rq);
        /* A refused request whose body is still to come: an unauthenticated client trickling
         * a body must not count as a request in progress, which is never shed. */
        if (rq->err_status && c && has_body(conn))
            conn_set(srv->gov, c, false, false);
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;

        *upload_data_size = 0;
        rq->body_seen += n;
        if (rq->err_status == 0) {
            if (rq->want_body) {
                if (tq_buf_append(&rq->body, upload_data, n) != TQ_OK) {
                    tq_buf_cleanup(&rq->body);
                    tq_buf_init(&rq->body, 0);
                    fail(rq, 413,
                         rq->log_add ? "the request body exceeds the add-checkpoint limit"
                                     : "the request body exceeds max_content_length");
                }
            } else if (rq->body_seen > srv->taxii.max_content_length) {
                fail(rq, 413, "the request body exceeds max_content_length");
            }
        }
        if (rq->err_status && rq->body_seen > rq->drain_max)
            return send_error(conn, rq);
        return MHD_YES;
    }
    if (rq->err_status)
        return send_error(conn, rq);
    if (rq->log_add)
        return (enum MHD_Result)tq__http_log_add_checkpoint(
            conn, srv->taxii.store, srv->witness,
            (struct tq_str){rq->body.ptr ? rq->body.ptr : "", rq->body.len});
    if (rq->log_openings)
        return (enum MHD_Result)tq__http_log_openings(conn, srv->taxii.store, srv->audit,
                                                      rq->partner, rq->log_path + 8);
    if (rq->log_path)
        return (enum MHD_Result)tq__http_log_serve(conn, srv->audit, srv->log_signer, rq->log_path);
    return serve(srv, conn, rq);
}

/* ---- start and stop --------------------------------------------------------------------- */

static bool segment_ok(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 64 || strcmp(s, "taxii2") == 0 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        n = 1;
    n *= 2;
    if (n < 2)
        n = 2;
    if (n > 64)
        n = 64;
    return (unsigned)n;
}

tq_rc tq_server_start(struct tq_store *store, const struct tq_server_config *cfg,
                      struct tq_server **out, struct tq_err *err)
{
    struct tq_server *srv = NULL;
    struct sockaddr_storage ss;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    const char *addr = cfg->listen_addr ? cfg->listen_addr : "127.0.0.1";
    const char *api_root = cfg->api_root ? cfg->api_root : "api";
    bool v6 = false, loopback;
    unsigned flags, threads, ncpu, max_conns;
    const union MHD_DaemonInfo *info;
    struct MHD_OptionItem tls_ops[5];
    tq_rc rc;

    tq_sodium_init();
    /*
     * A page of objects is a few hundred KiB. Above glibc's mmap threshold every response body
     * would be a fresh mmap, first-touch page faults and a munmap (16% of HTTPS time in a
     * profile of GET objects?limit=100); keep such buffers in the heap instead. Each arena keeps
     * up to 16 MiB free at its top, so a steady load does not give pages back and fault them in
     * again; beyond that, a free gives the rest back. (glibc's malloc_trim cannot shrink the
     * top of a worker thread's arena: with a higher threshold every arena stayed at its
     * high-water mark after a load, ~150 MB after 1,000 TLS connections.)
     */
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(cfg->port);
        loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    } else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        v6 = true;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(cfg->port);
        loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
    } else {
        return tq_err_set(err, TQ_ECONFIG, "listen address '%.64s' is not a numeric address", addr);
    }
    if (cfg->plain_http && !loopback)
        return tq_err_set(err, TQ_ECONFIG,
                          "plain HTTP is refused on %.64s: it is allowed on loopback only", addr);
    if (!cfg->plain_http && (!cfg->cert_pem_path || !cfg->key_pem_path))
        return tq_err_set(err, TQ_ECONFIG, "TLS needs a certificate and a key");
    if (!segment_ok(api_root))
        return tq_err_set(err, TQ_ECONFIG, "api root '%.64s' is not a plain path segment",
                          api_root);

    srv = tq_xcalloc(1, sizeof(*srv));
    tq_buf_init(&srv->cert_pem, 1u << 20);
    tq_buf_init(&srv->key_pem, 1u << 20);
    srv->tls = !cfg->plain_http;
    srv->title = tq_xstrdup(cfg->title ? cfg->title : "tansiq");
    srv->api_root = tq_xstrdup(api_root);
    srv->taxii.store = store;
    srv->taxii.audit = cfg->audit;
    srv->audit = cfg->log_signer ? cfg->audit : NULL;
    srv->log_signer = cfg->log_signer;
    srv->witness = cfg->witness_signer;
    srv->taxii.title = srv->title;
    srv->taxii.api_root = srv->api_root;
    srv->taxii.max_content_length =
        cfg->max_content_length ? cfg->max_content_length : DEFAULT_MAX_CONTENT;
    srv->taxii.status_retention_us =
        (int64_t)(cfg->status_retention_h > 24 ? cfg->status_retention_h : 24) * 3600 * 1000000;
    rc = tq__taxii_cursor_key_load(store, srv->taxii.cursor_key, err);
    if (rc)
        goto fail;
    if (srv->tls) {
        rc = tq_file_read(cfg->cert_pem_path, 1u << 20, &srv->cert_pem, err);
        if (rc)
            goto fail;
        rc = tq_file_read(cfg->key_pem_path, 1u << 20, &srv->key_pem, err);
        if (rc)
            goto fail;
        /* Best effort: the TLS key stays out of swap and core files (RLIMIT_MEMLOCK). */
        (void)sodium_mlock(srv->key_pem.ptr, srv->key_pem.cap);
    }
    ncpu = default_threads() / 2;
    srv->auth = tq__auth_new(AUTH_CACHE_SLOTS, AUTH_CACHE_TTL_US, ncpu);
    threads = cfg->threads ? cfg->threads : default_threads();

    memset(tls_ops, 0, sizeof(tls_ops));
    if (srv->tls) {
        tls_ops[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->key_pem.ptr};
        tls_ops[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->cert_pem.ptr};
        tls_ops[2] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                             (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:"
                                                     "+VERS-TLS1.2"};
        /* A trust list makes libmicrohttpd ask every client for a certificate
         * (GNUTLS_CERT_REQUEST: asked, not required, so analysts without one still connect).
         * It holds only our own certificate: partners are pinned by fingerprint, not trusted
         * as issuers. */
        tls_ops[3] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, srv->cert_pem.ptr};
        tls_ops[4] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    } else {
        tls_ops[0] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    }

    /* Writing to a socket the peer closed must fail with EPIPE, not end the process; the TLS
     * path does not always pass MSG_NOSIGNAL. An application that set its own handler keeps
     * it. */
    {
        struct sigaction sa;
        if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = SIG_IGN;
            sigaction(SIGPIPE, &sa, NULL);
        }
    }

    max_conns = cfg->max_connections ? cfg->max_connections : DEFAULT_MAX_CONNS;
    srv->gov = gov_new(max_conns,
                       cfg->max_connections_per_ip ? cfg->max_connections_per_ip : DEFAULT_PER_IP,
                       cfg->conn_timeout_s ? cfg->conn_timeout_s : DEFAULT_TIMEOUT_S);
    /* framing_error reads the header block as 0.9.75 leaves it; other versions parse
     * differently (and more strictly themselves). */
    srv->raw_framing = strcmp(MHD_get_version(), "0.9.75") == 0;
    if (!srv->raw_framing)
        tq_log(TQ_LOG_WARN, "http: libmicrohttpd %s: the header-block framing checks are off",
               MHD_get_version());

    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    if (srv->tls)
        flags |= MHD_USE_TLS;
    srv->daemon = MHD_start_daemon(
        flags, cfg->port, on_accept, srv, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        &srv->gov->mhd_log, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)max_conns, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)(cfg->conn_timeout_s ? cfg->conn_timeout_s : DEFAULT_TIMEOUT_S),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_ARRAY, tls_ops,
        MHD_OPTION_END);
    if (!srv->daemon) {
        rc = tq_err_set(err, srv->tls ? TQ_ETLS : TQ_EIO,
                        "cannot serve on %.64s port %u (address in use, or bad certificate/key)",
                        addr, (unsigned)cfg->port);
        goto fail;
    }
    if (pthread_create(&srv->gov->sweeper, NULL, sweeper_main, srv->gov) != 0) {
        rc = tq_err_set(err, TQ_EIO, "cannot start the connection sweeper thread");
        goto fail;
    }
    srv->gov->sweeper_started = true;
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : cfg->port;
    if (v6)
        snprintf(srv->default_host, sizeof(srv->default_host), "[%s]:%u", addr,
                 (unsigned)srv->port);
    else
        snprintf(srv->default_host, sizeof(srv->default_host), "%s:%u", addr, (unsigned)srv->port);
    atomic_store(&srv->last_purge_us, tq_time_now_us());
    tq__taxii_status_purge(&srv->taxii, tq_time_now_us());
    tq_log(TQ_LOG_INFO, "http: listening addr=%s port=%u tls=%s threads=%u", addr,
           (unsigned)srv->port, srv->tls ? "yes" : "no", threads);
    *out = srv;
    return TQ_OK;
fail:
    tq_server_stop(srv);
    return rc;
}

uint16_t tq_server_port(const struct tq_server *srv)
{
    return srv ? srv->port : 0;
}

void tq_server_stop(struct tq_server *srv)
{
    if (!srv)
        return;
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    gov_free(srv->gov); /* after the daemon: no connection is listed any more */
    tq__auth_free(srv->auth);
    if (srv->key_pem.ptr)
        sodium_munlock(srv->key_pem.ptr, srv->key_pem.cap); /* zeroes it too */
    tq_buf_cleanup(&srv->key_pem);
    tq_buf_cleanup(&srv->cert_pem);
    sodium_memzero(srv->taxii.cursor_key, sizeof(srv->taxii.cursor_key));
    tq_free(srv->title);
    tq_free(srv->api_root);
    tq_free(srv);
}
