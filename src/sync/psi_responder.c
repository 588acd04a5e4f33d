/* SPDX-License-Identifier: Apache-2.0
 *
 * sync/psi_responder.c - the responder's side of private set intersection in a serving node
 * (tq_psi_responder_*), which the HTTP server calls for POST /psi/v1/request and /final.
 *
 * A request is checked in an order that tells the partner nothing it was not granted: the
 * message first (its bytes only), then the grant, the mode and the list together (one refusal,
 * one text, for no such list, a list not opened, a mode not granted and a STIX list), then the
 * requesting list's size and the rate limit, which only a partner holding a grant can reach.
 * Every request that names a list ends as a store row and an audit leaf naming the partner;
 * those leaves are what the partner may read back (GET /log/openings), which is why a
 * not-opened refusal's leaf carries the list's name as asked and no digest of anything here.
 *
 * Between RESPONSE and FINAL the session lives in this process's memory only, keyed by its id
 * and the partner, for stall_s seconds; a thread expires it, and an expired session, or one
 * still pending when the responder stops, is recorded as final-withheld. With several serve
 * processes behind one address, a FINAL that reaches another process than its REQUEST finds no
 * session (404) and the first process records final-withheld on expiry.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sync/sync.h"
#include "tansiq/audit.h"

#define DAY_US ((int64_t)24 * 3600 * 1000000)
#define NOT_OPENED "psi: this list is not opened to you in this mode"

struct pending {
    struct pending *next;
    struct tq_psi_session *s;
    struct tq_store_psi_run run;
    uint8_t sid[TQ_PSI_SESSION_ID_BYTES];
    uint8_t digest[32];
    size_t own_points, peer_points;
    int64_t deadline_mono_us;
};

/* A partner's refusals in the current 24-hour window: recorded one by one up to the cap. */
struct flood {
    struct flood *next;
    char partner[TQ_NAME_MAX];
    int64_t since_us;         /* the window's start */
    unsigned recorded;        /* refusals recorded as rows and leaves in it */
    uint64_t suppressed;      /* refusals past the cap, counted only */
    int64_t first_suppressed; /* when the first of those came */
};

struct tq_psi_responder {
    struct tq_store *store;
    struct tq_audit_log *audit;
    int64_t stall_us;
    unsigned refusals_per_day;
    struct flood *floods;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool stop;
    struct pending *pending;
    size_t n_pending;
};

/* Record a run's end: its row (inserted or updated) and its leaf. */
static void record(struct tq_psi_responder *r, struct tq_store_psi_run *run, bool in_store,
                   const uint8_t *digest, size_t own_points, size_t peer_points)
{
    struct tq__psi_leaf leaf = {
        .run = run, .digest = digest, .own_points = own_points, .peer_points = peer_points};
    struct tq_err e = {0};
    tq_rc rc;

    rc = in_store ? tq_store_psi_run_update(r->store, run, &e)
                  : tq_store_psi_run_admit(r->store, run, 0, 0, &e);
    if (rc)
        tq_log(TQ_LOG_WARN, "psi: run row partner=%s: %s", run->partner, e.msg);
    tq_err_clear(&e);
    if (r->audit)
        tq__psi_leaf_append(r->audit, &leaf, &e);
}

static void pending_end(struct tq_psi_responder *r, struct pending *p, const char *outcome)
{
    snprintf(p->run.outcome, sizeof(p->run.outcome), "%s", outcome);
    record(r, &p->run, true, p->digest, p->own_points, p->peer_points);
    tq_psi_session_free(p->s);
    tq_free(p);
}

/* Take out the sessions past their deadline (all with everything) under the lock. */
static struct pending *take_expired(struct tq_psi_responder *r, int64_t now, bool everything)
{
    struct pending *out = NULL, **pp = &r->pending;

    while (*pp) {
        struct pending *p = *pp;

        if (everything || p->deadline_mono_us <= now) {
            *pp = p->next;
            p->next = out;
            out = p;
            r->n_pending--;
        } else {
            pp = &p->next;
        }
    }
    return out;
}

static void end_all(struct tq_psi_responder *r, struct pending *list)
{
    while (list) {
        struct pending *next = list->next;

        tq_log(TQ_LOG_WARN, "psi: partner=%s session=%s: no final within %" PRId64 " s",
               list->run.partner, list->run.session, r->stall_us / 1000000);
        pending_end(r, list, "final-withheld");
        list = next;
    }
}

/* The one row and leaf that stand for the refusals of a window past the cap. */
static void flood_summary(struct tq_psi_responder *r, const struct flood *fl)
{
    struct tq_store_psi_run run = {.at_us = fl->first_suppressed, .count = -1};

    snprintf(run.partner, sizeof(run.partner), "%s", fl->partner);
    snprintf(run.role, sizeof(run.role), "responder");
    snprintf(run.outcome, sizeof(run.outcome), "refused: flood, %" PRIu64 " unrecorded",
             fl->suppressed);
    tq_log(TQ_LOG_WARN, "psi: partner=%s: %" PRIu64 " refusals past the cap of %u a day",
           fl->partner, fl->suppressed, r->refusals_per_day);
    record(r, &run, false, NULL, 0, 0);
}

/* Take out the windows that ended by now (all with everything) under the lock. */
static struct flood *take_floods(struct tq_psi_responder *r, int64_t now, bool everything)
{
    struct flood *out = NULL, **pp = &r->floods;

    while (*pp) {
        struct flood *fl = *pp;

        if (everything || now - fl->since_us >= DAY_US) {
            *pp = fl->next;
            fl->next = out;
            out = fl;
        } else {
            pp = &fl->next;
        }
    }
    return out;
}

static void end_floods(struct tq_psi_responder *r, struct flood *list)
{
    while (list) {
        struct flood *next = list->next;

        if (list->suppressed)
            flood_summary(r, list);
        tq_free(list);
        list = next;
    }
}

/*
 * Whether a refusal of partner at now is recorded one by one: the first refusals_per_day of a
 * window are; past them each is counted, and the window's end writes one summary.
 */
static bool refusal_recorded(struct tq_psi_responder *r, const char *partner, int64_t now)
{
    struct flood *fl, *ended;
    bool recorded = true, first_over = false;

    pthread_mutex_lock(&r->mu);
    ended = take_floods(r, now, false);
    for (fl = r->floods; fl && strcmp(fl->partner, partner) != 0;)
        fl = fl->next;
    if (!fl) {
        fl = tq_xcalloc(1, sizeof(*fl));
        snprintf(fl->partner, sizeof(fl->partner), "%s", partner);
        fl->since_us = now;
        fl->next = r->floods;
        r->floods = fl;
    }
    if (fl->recorded < r->refusals_per_day) {
        fl->recorded++;
    } else {
        recorded = false;
        first_over = fl->suppressed == 0;
        if (first_over)
            fl->first_suppressed = now;
        fl->suppressed++;
    }
    pthread_mutex_unlock(&r->mu);
    end_floods(r, ended);
    if (first_over)
        tq_log(TQ_LOG_WARN,
               "psi: partner=%s: %u refusals recorded in 24 hours; further ones are counted and "
               "summed up in one leaf",
               partner, r->refusals_per_day);
    return recorded;
}

static void *sweeper(void *arg)
{
    struct tq_psi_responder *r = arg;

    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        struct timespec ts;
        struct pending *expired;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        struct flood *ended;

        expired = take_expired(r, tq_time_mono_us(), false);
        ended = take_floods(r, tq_time_now_us(), false);
        if (expired || ended) {
            pthread_mutex_unlock(&r->mu);
            end_all(r, expired);
            end_floods(r, ended);
            pthread_mutex_lock(&r->mu);
        }
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

tq_rc tq_psi_responder_new(struct tq_store *store, struct tq_audit_log *audit,
                           const struct tq_psi_responder_options *opts,
                           struct tq_psi_responder **out, struct tq_err *err)
{
    struct tq_psi_responder *r;
    unsigned stall = opts && opts->stall_s ? opts->stall_s : TQ_PSI_NODE_STALL_S_DEFAULT;

    if (!store || !out)
        return tq_err_set(err, TQ_EINVAL, "psi: a responder needs a store");
    r = tq_xcalloc(1, sizeof(*r));
    r->store = store;
    r->audit = audit;
    r->stall_us = (int64_t)stall * 1000000;
    r->refusals_per_day = opts && opts->refusals_per_day ? opts->refusals_per_day
                                                         : TQ_PSI_NODE_REFUSALS_PER_DAY_DEFAULT;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, sweeper, r) != 0) {
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        tq_free(r);
        return tq_err_set(err, TQ_EIO, "psi: cannot start the responder's thread");
    }
    *out = r;
    return TQ_OK;
}

void tq_psi_responder_free(struct tq_psi_responder *r)
{
    struct pending *rest;

    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    rest = take_expired(r, 0, true);
    end_all(r, rest);
    end_floods(r, take_floods(r, 0, true));
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    tq_free(r);
}

size_t tq_psi_responder_pending(struct tq_psi_responder *r)
{
    size_t n;

    pthread_mutex_lock(&r->mu);
    n = r->n_pending;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* A refusal: recorded, then returned with its text. */
static tq_rc refuse(struct tq_psi_responder *r, struct tq_store_psi_run *run, tq_rc rc,
                    const char *outcome, const char *text, struct tq_err *err)
{
    snprintf(run->outcome, sizeof(run->outcome), "refused: %s", outcome);
    if (refusal_recorded(r, run->partner, run->at_us))
        record(r, run, false, NULL, 0, 0);
    return tq_err_set(err, rc, "%s", text);
}

tq_rc tq_psi_responder_request(struct tq_psi_responder *r, const char *partner, const char *list,
                               struct tq_str body, struct tq_buf *out, struct tq_err *err)
{
    struct tq_psi_limits limits = {.max_entries = TQ_PSI_NET_MAX_ENTRIES,
                                   .max_points = TQ_PSI_NET_MAX_POINTS};
    struct tq_store_psi_run run = {0};
    struct tq_store_psi_grant g;
    struct tq_psi_message msg;
    struct tq__psi_list l = {0};
    struct pending *p = NULL;
    struct tq_err e = {0};
    unsigned grant_mode;
    size_t before = out->len;
    tq_rc rc;

    if (!r || !partner || !list)
        return tq_err_set(err, TQ_EINVAL, "psi: missing responder, partner or list");
    run.at_us = tq_time_now_us();
    snprintf(run.partner, sizeof(run.partner), "%s", partner);
    snprintf(run.list, sizeof(run.list), "%s", list);
    snprintf(run.role, sizeof(run.role), "responder");
    run.count = -1;

    /* One answer for every reason the list is not there for this partner in this mode. The
     * grant is looked up before the body is read: a partner with no grant cannot make this node
     * decode a message's worth of points. */
    rc = tq_store_psi_grant_get(r->store, partner, list, &g, &e);
    if (rc == TQ_ENOTFOUND || rc == TQ_EINVAL)
        return refuse(r, &run, TQ_EFORBIDDEN, "not-opened", NOT_OPENED, err);
    if (rc)
        return refuse(r, &run, rc, "failed", "psi: this node cannot answer now", err);
    rc = tq_psi_message_parse(body, &limits, &msg, &e);
    if (rc == TQ_OK && msg.type != TQ_PSI_MSG_REQUEST)
        rc = tq_err_set(&e, TQ_EINVAL, "psi: expected a request message");
    if (rc)
        return refuse(r, &run, rc, rc == TQ_ETOOBIG ? "too-big" : "malformed", e.msg, err);
    tq_hex_encode(msg.session_id, sizeof(msg.session_id), run.session);
    snprintf(run.mode, sizeof(run.mode), "%s", tq__psi_mode_name(msg.mode));
    run.keys_per_entry = msg.keys_per_entry;
    run.peer_entries = msg.n_entries;
    grant_mode =
        msg.mode == TQ_PSI_MODE_CARDINALITY ? TQ_PSI_GRANT_CARDINALITY : TQ_PSI_GRANT_MATCHES;
    if (!(g.modes & grant_mode))
        return refuse(r, &run, TQ_EFORBIDDEN, "not-opened", NOT_OPENED, err);
    /* K = 0 (one point per distinct key) lets a peer count keys: answered with padding only. */
    if (msg.keys_per_entry == 0)
        return refuse(r, &run, TQ_EUNPROCESSABLE, "unpadded",
                      "psi: this node answers padded requests only (keys per entry 1..16)", err);
    rc = tq__psi_list_load(r->store, list, msg.keys_per_entry, &l, &e);
    if (rc == TQ_ENOTFOUND || rc == TQ_EFORBIDDEN) {
        if (rc == TQ_EFORBIDDEN)
            tq_log(TQ_LOG_WARN, "psi: partner=%s list=%s: %s", partner, list, e.msg);
        return refuse(r, &run, TQ_EFORBIDDEN, "not-opened", NOT_OPENED, err);
    }
    if (rc)
        return refuse(r, &run, rc, "failed", "psi: this node cannot answer now", err);
    run.own_entries = l.n;
    if (msg.n_entries < g.min_entries) {
        tq__psi_list_cleanup(&l);
        return refuse(r, &run, TQ_EUNPROCESSABLE, "list-too-small",
                      "psi: the requesting list is smaller than this node answers", err);
    }
    pthread_mutex_lock(&r->mu);
    if (r->n_pending >= TQ_PSI_NODE_PENDING_MAX)
        rc = TQ_EBUSY;
    pthread_mutex_unlock(&r->mu);
    if (rc) {
        tq__psi_list_cleanup(&l);
        return refuse(r, &run, TQ_EBUSY, "busy", "psi: too many runs in progress; try later", err);
    }
    snprintf(run.outcome, sizeof(run.outcome), "started");
    rc = tq_store_psi_run_admit(r->store, &run, run.at_us - DAY_US, g.runs_per_day, &e);
    if (rc == TQ_EBUSY) {
        tq__psi_list_cleanup(&l);
        return refuse(r, &run, TQ_EBUSY, "rate-limited",
                      "psi: the runs allowed on this list today are used up", err);
    }
    if (rc) {
        tq__psi_list_cleanup(&l);
        return refuse(r, &run, rc, "failed", "psi: this node cannot answer now", err);
    }

    p = tq_xcalloc(1, sizeof(*p));
    p->s = tq_psi_session_new(TQ_PSI_RESPONDER, &limits);
    rc = tq_psi_respond(p->s, body, l.entries, l.n, out, &e);
    if (rc) {
        /* Our own list does not fit the request (an entry over K keys cannot happen: trimmed). */
        out->len = before;
        snprintf(run.outcome, sizeof(run.outcome), "failed");
        record(r, &run, true, l.digest, 0, msg.n_points_a);
        tq_psi_session_free(p->s);
        tq_free(p);
        tq__psi_list_cleanup(&l);
        return tq_err_set(err, rc == TQ_ETOOBIG ? TQ_ETOOBIG : TQ_EIO, "%s", e.msg);
    }
    p->run = run;
    memcpy(p->sid, msg.session_id, sizeof(p->sid));
    memcpy(p->digest, l.digest, 32);
    p->peer_points = msg.n_points_a;
    p->own_points = l.n * msg.keys_per_entry;
    p->deadline_mono_us = tq_time_mono_us() + r->stall_us;
    tq__psi_list_cleanup(&l);
    pthread_mutex_lock(&r->mu);
    p->next = r->pending;
    r->pending = p;
    r->n_pending++;
    pthread_mutex_unlock(&r->mu);
    return TQ_OK;
}

tq_rc tq_psi_responder_final(struct tq_psi_responder *r, const char *partner, struct tq_str body,
                             struct tq_err *err)
{
    struct tq_psi_limits limits = {.max_entries = TQ_PSI_NET_MAX_ENTRIES,
                                   .max_points = TQ_PSI_NET_MAX_POINTS};
    struct tq_psi_message msg;
    struct tq_psi_result res = {0};
    struct pending *p = NULL, **pp;
    tq_rc rc;

    if (!r || !partner)
        return tq_err_set(err, TQ_EINVAL, "psi: missing responder or partner");
    rc = tq_psi_message_parse(body, &limits, &msg, err);
    if (rc)
        return rc;
    if (msg.type != TQ_PSI_MSG_FINAL)
        return tq_err_set(err, TQ_EINVAL, "psi: expected a final message");
    pthread_mutex_lock(&r->mu);
    for (pp = &r->pending; *pp; pp = &(*pp)->next)
        if (memcmp((*pp)->sid, msg.session_id, sizeof(msg.session_id)) == 0 &&
            strcmp((*pp)->run.partner, partner) == 0) {
            p = *pp;
            *pp = p->next;
            r->n_pending--;
            break;
        }
    pthread_mutex_unlock(&r->mu);
    if (!p)
        return tq_err_set(err, TQ_ENOTFOUND,
                          "psi: no run of yours awaits this final here (expired, or answered by "
                          "another process of this node)");
    rc = tq_psi_conclude(p->s, body, &res, err);
    if (rc) {
        pending_end(r, p, "final-invalid");
        return TQ_EINVAL;
    }
    p->run.count = (int64_t)res.count;
    tq_psi_result_cleanup(&res);
    pending_end(r, p, "finished");
    return TQ_OK;
}
