/* SPDX-License-Identifier: Apache-2.0
 *
 * node/sync_loop.c - the periodic sync of a running node.
 *
 * One thread pulls every partner (tq_sync_all) each interval_s seconds, with witnessing on: each
 * partner's log is watched and each partner asked to cosign ours. It sleeps in short steps, so
 * that stopping is never held up for long, and a round under way is cancelled through the sync
 * module's cancel hook. An alarm against a partner's log is logged at ERROR: an operator must act.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "node/node.h"
#include "tansiq/sync.h"

struct tq_node_sync_loop {
    pthread_t thread;
    struct tq_node *node;
    unsigned interval_s;
    struct tq_audit_log *audit;
    const struct tq_note_signer *log_signer;
    const struct tq_note_signer *witness_signer;
    atomic_bool stop;
};

static bool loop_stopping(void *ud)
{
    struct tq_node_sync_loop *l = ud;

    return atomic_load(&l->stop);
}

/* After each partner of a round: an alarm is for an operator to act on. */
static void loop_partner(void *ud, const char *partner, tq_rc rc, const struct tq_err *err,
                         const struct tq_sync_stats *st)
{
    (void)ud;
    (void)rc;
    if (st->alarms)
        tq_log(TQ_LOG_ERROR, "sync: partner=%s %s", partner,
               err && err->msg[0] ? err->msg : "ALARM");
}

static void *loop_main(void *ud)
{
    struct tq_node_sync_loop *l = ud;
    struct tq_sync_options opts = {.cancel = loop_stopping,
                                   .cancel_ud = l,
                                   .audit = l->audit,
                                   .log_signer = l->log_signer,
                                   .witness_signer = l->witness_signer};
    const char *cert, *key;

    tq_node_tls_paths(l->node, &cert, &key);
    while (!atomic_load(&l->stop)) {
        struct tq_err err = {0};
        size_t failed = 0;
        tq_rc rc;

        rc = tq_sync_all(tq_node_store(l->node), cert, key, &opts, loop_partner, NULL, &failed,
                         &err);
        if (rc)
            tq_log(TQ_LOG_WARN, "sync: cannot list partners rc=%s: %s", tq_rc_name(rc), err.msg);
        else if (failed)
            tq_log(TQ_LOG_WARN, "sync: round done, %zu partner(s) failed", failed);
        /* Sleep the interval in short steps, so that shutdown is not held up. */
        for (unsigned ms = 0; ms < l->interval_s * 1000u && !atomic_load(&l->stop); ms += 200) {
            struct timespec ts = {0, 200 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

tq_rc tq__node_sync_loop_start(struct tq_node *node, unsigned interval_s,
                               struct tq_audit_log *audit, const struct tq_note_signer *log_signer,
                               const struct tq_note_signer *witness_signer,
                               struct tq_node_sync_loop **out, struct tq_err *err)
{
    struct tq_node_sync_loop *l;
    sigset_t block, old;
    int e;

    *out = NULL;
    if (interval_s == 0)
        return TQ_OK;
    l = tq_xcalloc(1, sizeof(*l));
    l->node = node;
    l->interval_s = interval_s;
    l->audit = audit;
    l->log_signer = log_signer;
    l->witness_signer = witness_signer;
    atomic_store(&l->stop, false);
    /* The thread inherits a mask without SIGINT and SIGTERM: they must reach the caller's
     * thread, whose pause() they end. */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    e = pthread_create(&l->thread, NULL, loop_main, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        tq_free(l);
        return tq_err_set(err, TQ_EIO, "cannot start the sync thread: %s", strerror(e));
    }
    tq_log(TQ_LOG_INFO, "sync: every %u s", interval_s);
    *out = l;
    return TQ_OK;
}

void tq__node_sync_loop_stop(struct tq_node_sync_loop *l)
{
    if (!l)
        return;
    atomic_store(&l->stop, true);
    pthread_join(l->thread, NULL);
    tq_free(l);
}
