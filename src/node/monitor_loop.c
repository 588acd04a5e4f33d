/* SPDX-License-Identifier: Apache-2.0
 *
 * node/monitor_loop.c - the border monitor's background job in `tansiq serve`: every
 * REFRESH_S seconds it picks up boundaries and rules that other processes changed
 * (tq_monitor_refresh, one small read), and every scan_interval_s it evaluates the hotspot and
 * corridor rules (tq_monitor_scan). One thread, woken early only to stop.
 */
#include <pthread.h>
#include <time.h>

#include "node/node.h"
#include "tansiq/alerts.h"

#define REFRESH_S 2

struct tq_node_monitor_loop {
    struct tq_monitor *monitor;
    unsigned scan_s;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
};

static void *loop_main(void *arg)
{
    struct tq_node_monitor_loop *l = arg;
    struct timespec ts;
    unsigned since_scan = 0;

    pthread_mutex_lock(&l->lock);
    while (!l->stopping) {
        struct tq_err err = {0};

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += REFRESH_S;
        while (!l->stopping && pthread_cond_timedwait(&l->wake, &l->lock, &ts) == 0)
            ;
        if (l->stopping)
            break;
        pthread_mutex_unlock(&l->lock);
        if (tq_monitor_refresh(l->monitor, &err) != TQ_OK)
            tq_log(TQ_LOG_WARN, "monitor: reload: %s", err.msg);
        since_scan += REFRESH_S;
        if (since_scan >= l->scan_s) {
            since_scan = 0;
            if (tq_monitor_scan(l->monitor, 0, NULL, &err) != TQ_OK)
                tq_log(TQ_LOG_WARN, "monitor: scan: %s", err.msg);
        }
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

tq_rc tq__node_monitor_loop_start(struct tq_monitor *monitor, unsigned scan_s,
                                  struct tq_node_monitor_loop **out, struct tq_err *err)
{
    struct tq_node_monitor_loop *l;

    *out = NULL;
    if (!monitor)
        return TQ_OK;
    l = tq_xcalloc(1, sizeof(*l));
    l->monitor = monitor;
    l->scan_s = scan_s ? scan_s : 300;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->wake, NULL);
    if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
        pthread_mutex_destroy(&l->lock);
        pthread_cond_destroy(&l->wake);
        tq_free(l);
        return tq_err_set(err, TQ_EIO, "cannot start the monitor thread");
    }
    *out = l;
    return TQ_OK;
}

void tq__node_monitor_loop_stop(struct tq_node_monitor_loop *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    l->stopping = true;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->wake);
    tq_free(l);
}
