/* SPDX-License-Identifier: Apache-2.0
 *
 * bench/bench_psi.c - private set intersection of two lists of 10,000 and of 100,000
 * single-key entries on two threads, against the bare cost of its scalar multiplications.
 *
 * A run of n x m entries needs 2(n + m) variable-base scalar multiplications (each side
 * blinds its own points once and the peer's once); everything else (hashing to the curve,
 * point checks, sorting, shuffling, the messages) is overhead, which the ratio shows. The
 * reference is measured in the same run: crypto_scalarmult_ristretto255 calls on two threads
 * for one second, the rate turned into the time of the same number of calls. Both sides run in
 * this process one after the other, as two nodes would (the requester waits while the
 * responder works), with no transport. Lists share a tenth of their entries; the counts are
 * checked. Sizes can be given as arguments (bench_psi 10000 100000).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tansiq/psi.h"

#define MSG_MAX ((size_t)1 << 30)

struct rate_arg {
    double seconds;
    long calls;
};

static void *mul_loop(void *p)
{
    struct rate_arg *a = p;
    uint8_t s[32], pt[32], q[32];
    int64_t t0 = tq_time_mono_us();

    crypto_core_ristretto255_scalar_random(s);
    crypto_core_ristretto255_random(pt);
    a->calls = 0;
    do {
        for (int i = 0; i < 100; i++) {
            if (crypto_scalarmult_ristretto255(q, s, pt) != 0)
                abort();
            pt[0] ^= 0; /* keep the same point; the result is not reused */
        }
        a->calls += 100;
    } while (tq_time_mono_us() - t0 < (int64_t)(a->seconds * 1e6));
    a->seconds = (double)(tq_time_mono_us() - t0) / 1e6;
    return NULL;
}

/* Scalar multiplications per second on `threads` threads together. */
static double mul_rate(int threads)
{
    pthread_t tid[2];
    struct rate_arg a[2] = {{1.0, 0}, {1.0, 0}};
    double rate = 0;

    for (int t = 1; t < threads; t++)
        if (pthread_create(&tid[t], NULL, mul_loop, &a[t]) != 0)
            abort();
    mul_loop(&a[0]);
    for (int t = 1; t < threads; t++)
        pthread_join(tid[t], NULL);
    for (int t = 0; t < threads; t++)
        rate += (double)a[t].calls / a[t].seconds;
    return rate;
}

struct list {
    struct tq_psi_entry *e;
    struct tq_str *k;
    char *text;
};

/* n entries "<side> <i>", of which those with i % 10 == 0 are named the same on both sides. */
static void make_list(struct list *l, size_t n, char side)
{
    size_t i, w = 24;

    l->e = tq_xcalloc(n, sizeof(*l->e));
    l->k = tq_xcalloc(n, sizeof(*l->k));
    l->text = tq_xmalloc(n * w);
    for (i = 0; i < n; i++) {
        char *t = l->text + i * w;
        int len = snprintf(t, w, "%c %zu", i % 10 == 0 ? 's' : side, i);

        l->k[i] = (struct tq_str){t, (size_t)len};
        l->e[i] = (struct tq_psi_entry){&l->k[i], 1};
    }
}

static void free_list(struct list *l)
{
    tq_free(l->e);
    tq_free(l->k);
    tq_free(l->text);
}

static void die(const char *what, const struct tq_err *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err->msg);
    exit(1);
}

static void run(size_t n, enum tq_psi_mode mode, unsigned k, double rate2)
{
    struct tq_psi_limits lim = {.threads = 2};
    struct tq_psi_session *a = tq_psi_session_new(TQ_PSI_REQUESTER, &lim);
    struct tq_psi_session *b = tq_psi_session_new(TQ_PSI_RESPONDER, &lim);
    struct tq_psi_result ra, rb;
    struct tq_buf q, s, f;
    struct tq_err err = {0};
    struct list la, lb;
    int64_t t0, t1, t2, t3, t4;
    double total, bare;
    size_t mults = 4 * n, shared = (n + 9) / 10;

    make_list(&la, n, 'a');
    make_list(&lb, n, 'b');
    tq_buf_init(&q, MSG_MAX);
    tq_buf_init(&s, MSG_MAX);
    tq_buf_init(&f, MSG_MAX);
    t0 = tq_time_mono_us();
    if (tq_psi_request(a, mode, k, la.e, n, &q, &err))
        die("request", &err);
    t1 = tq_time_mono_us();
    if (tq_psi_respond(b, (struct tq_str){q.ptr, q.len}, lb.e, n, &s, &err))
        die("respond", &err);
    t2 = tq_time_mono_us();
    if (tq_psi_finish(a, (struct tq_str){s.ptr, s.len}, &ra, &f, &err))
        die("finish", &err);
    t3 = tq_time_mono_us();
    if (tq_psi_conclude(b, (struct tq_str){f.ptr, f.len}, &rb, &err))
        die("conclude", &err);
    t4 = tq_time_mono_us();
    if (ra.count != shared || rb.count != shared) {
        fprintf(stderr, "bench: %zu and %zu shared, wanted %zu\n", ra.count, rb.count, shared);
        exit(1);
    }
    total = (double)(t4 - t0) / 1e6;
    bare = (double)mults / rate2;
    printf("psi %zu x %zu (%s, 2 threads): %.2f s; bare scalar multiplications (%zu on 2 "
           "threads) %.2f s; ratio %.2f%s\n",
           n, n, mode == TQ_PSI_MODE_MATCHES ? "matches" : "cardinality", total, mults, bare,
           total / bare,
           n == 10000 ? (total < 2.0 ? " (goal < 2 s: met)" : " (goal < 2 s: MISSED)") : "");
    printf("  request %.2f s, respond %.2f s, finish %.2f s, conclude %.3f s; messages %zu + %zu "
           "+ %zu bytes\n",
           (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, (double)(t3 - t2) / 1e6,
           (double)(t4 - t3) / 1e6, q.len, s.len, f.len);
    tq_psi_result_cleanup(&ra);
    tq_psi_result_cleanup(&rb);
    tq_buf_cleanup(&q);
    tq_buf_cleanup(&s);
    tq_buf_cleanup(&f);
    tq_psi_session_free(a);
    tq_psi_session_free(b);
    free_list(&la);
    free_list(&lb);
}

int main(int argc, char **argv)
{
    size_t sizes[8] = {10000, 100000};
    int n_sizes = 2;
    double rate1, rate2;

    if (sodium_init() < 0)
        return 1;
    if (argc > 1) {
        n_sizes = 0;
        for (int i = 1; i < argc && n_sizes < 8; i++) {
            size_t v = strtoul(argv[i], NULL, 10);

            if (v)
                sizes[n_sizes++] = v;
        }
    }
    rate1 = mul_rate(1);
    rate2 = mul_rate(2);
    printf("reference: crypto_scalarmult_ristretto255 %.0f/s on 1 thread, %.0f/s on 2 threads\n",
           rate1, rate2);
    for (int i = 0; i < n_sizes; i++)
        run(sizes[i], TQ_PSI_MODE_MATCHES, 0, rate2);
    run(sizes[0], TQ_PSI_MODE_CARDINALITY, 1, rate2);
    return 0;
}
