/* SPDX-License-Identifier: Apache-2.0
 *
 * psi/parallel.c - run a job over an index range on a few threads.
 *
 * PSI spends nearly all its time in independent scalar multiplications, so a contiguous
 * split of the index range over two threads halves the wall time with no coordination but a
 * join. Threads are started per call: a run makes a handful of calls, each of thousands of
 * multiplications (60 us each), so the start cost (tens of microseconds) does not show.
 */
#include <pthread.h>

#include "psi/psi.h"

/* Below this many items a range is not split. */
#define PSI_MIN_ITEMS_PER_THREAD 64
#define PSI_MAX_THREADS 16

struct part {
    tq__psi_job_cb job;
    void *ctx;
    size_t begin, end, failed;
};

static void *run_part(void *arg)
{
    struct part *p = arg;

    p->failed = p->job(p->ctx, p->begin, p->end);
    return NULL;
}

size_t tq__psi_parallel(unsigned threads, size_t n, tq__psi_job_cb job, void *ctx)
{
    struct part parts[PSI_MAX_THREADS];
    pthread_t tid[PSI_MAX_THREADS];
    int started[PSI_MAX_THREADS] = {0};
    size_t t, nt = threads ? threads : 1, failed = 0;

    if (nt > PSI_MAX_THREADS)
        nt = PSI_MAX_THREADS;
    if (nt > n / PSI_MIN_ITEMS_PER_THREAD)
        nt = n / PSI_MIN_ITEMS_PER_THREAD;
    if (nt <= 1)
        return n ? job(ctx, 0, n) : 0;
    for (t = 0; t < nt; t++)
        parts[t] = (struct part){job, ctx, n * t / nt, n * (t + 1) / nt, 0};
    for (t = 0; t + 1 < nt; t++)
        started[t] = pthread_create(&tid[t], NULL, run_part, &parts[t]) == 0;
    for (t = 0; t + 1 < nt; t++)
        if (!started[t])
            run_part(&parts[t]);
    run_part(&parts[nt - 1]);
    for (t = 0; t < nt; t++) {
        if (t + 1 < nt && started[t])
            pthread_join(tid[t], NULL);
        failed += parts[t].failed;
    }
    return failed;
}
