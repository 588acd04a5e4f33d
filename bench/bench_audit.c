/* SPDX-License-Identifier: Apache-2.0
 *
 * bench/bench_audit.c - durable audit-log appends against raw fsync-batched writes.
 *
 * The log's leaves are durable when their transaction commits (SQLite WAL, synchronous=FULL:
 * one fsync of the WAL per commit). This bench appends N "released" leaves in batches of B per
 * transaction through tq_store_audit_append, catching the in-memory tree up after each batch
 * (tq_audit_sync), so a checkpoint could be signed after every batch. The reference writes the
 * same bytes (salt, record, commitment, leaf hash, kind, time and partner of every leaf) to a
 * plain file with one write() and one fdatasync() per batch: what this disk allows for the same
 * durability without a database or a tree. Both run in the same process, alternately, best of
 * three each.
 *
 * usage: bench_audit [LEAVES [BATCH]]   (defaults 200000 and 256)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bench_util.h"
#include "tansiq/audit.h"
#include "tansiq/core.h"
#include "tansiq/store.h"

#define ROUNDS 3
#define COLLECTION "8f1f2b9e-3c1d-4a57-9b2e-6a0f2a1c7d10"
#define GOAL_PER_S 100000.0 /* ten times Tessera's published ~10,000 durable appends/s */

struct leaf {
    char object[64];
    uint8_t sha256[32];
};

static void event_of(const struct leaf *l, int64_t at_us, struct tq_store_audit_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = "released";
    ev->at_us = at_us;
    ev->collection = COLLECTION;
    ev->object = l->object;
    ev->version_us = at_us;
    ev->sha256 = l->sha256;
    ev->partner = "damascus";
}

/* Leaves per second through the store and the tree; -1 on failure. */
static double run_log(const char *path, const struct leaf *leaves, size_t n, size_t batch)
{
    struct tq_audit_options opt = {.no_thread = true};
    struct tq_store_audit_event *ev = tq_xcalloc(batch, sizeof(*ev));
    struct tq_audit_log *log = NULL;
    struct tq_store *store = NULL;
    struct tq_err err = {0};
    int64_t t0, t1, base = tq_time_now_us();
    double rate = -1;

    bench_remove_db(path);
    if (tq_store_open(path, NULL, &store, &err) || tq_audit_log_open(store, &opt, &log, &err))
        goto out;
    t0 = tq_time_mono_us();
    for (size_t i = 0; i < n; i += batch) {
        size_t k = n - i < batch ? n - i : batch;

        for (size_t j = 0; j < k; j++)
            event_of(&leaves[i + j], base + (int64_t)(i + j), &ev[j]);
        if (tq_store_audit_append(store, ev, k, &err) || tq_audit_sync(log, &err))
            goto out;
    }
    t1 = tq_time_mono_us();
    if (tq_audit_size(log) != n) {
        fprintf(stderr, "bench_audit: log holds %llu leaves, expected %zu\n",
                (unsigned long long)tq_audit_size(log), n);
        goto out;
    }
    rate = bench_per_second(n, t0, t1);
out:
    if (err.rc)
        fprintf(stderr, "bench_audit: %s: %s\n", tq_rc_name(err.rc), err.msg);
    tq_audit_log_close(log);
    tq_store_close(store);
    bench_remove_db(path);
    tq_free(ev);
    return rate;
}

/*
 * The bytes one leaf row holds: kind, time, partner, salt, record, commitment and leaf hash
 * (the salt and hashes are stand-ins of the right length: only their size matters to the disk).
 */
static tq_rc leaf_bytes(const struct leaf *l, int64_t at_us, struct tq_buf *out, struct tq_err *err)
{
    struct tq_store_audit_event ev;
    uint8_t fill[3 * 32 + 8];
    tq_rc rc;

    event_of(l, at_us, &ev);
    memset(fill, 0x5a, sizeof(fill));
    rc = tq_buf_append(out, ev.kind, strlen(ev.kind));
    if (rc == TQ_OK)
        rc = tq_buf_append(out, ev.partner, strlen(ev.partner));
    if (rc == TQ_OK)
        rc = tq_buf_append(out, fill, sizeof(fill));
    if (rc)
        return tq_err_set(err, rc, "leaf bytes");
    return tq_store_audit_record(&ev, out, err);
}

/* Leaves per second written raw with one fdatasync per batch; -1 on failure. */
static double run_raw(const char *path, const struct leaf *leaves, size_t n, size_t batch,
                      uint64_t *bytes_out)
{
    struct tq_buf b;
    struct tq_err err = {0};
    int64_t t0, t1, base = tq_time_now_us();
    uint64_t bytes = 0;
    double rate = -1;
    int fd;

    tq_buf_init(&b, (size_t)64 << 20);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror("bench_audit: open");
        goto out;
    }
    t0 = tq_time_mono_us();
    for (size_t i = 0; i < n; i += batch) {
        size_t k = n - i < batch ? n - i : batch;
        const char *p;
        size_t left;

        b.len = 0;
        for (size_t j = 0; j < k; j++)
            if (leaf_bytes(&leaves[i + j], base + (int64_t)(i + j), &b, &err))
                goto out;
        for (p = b.ptr, left = b.len; left > 0;) {
            ssize_t w = write(fd, p, left);

            if (w <= 0) {
                perror("bench_audit: write");
                goto out;
            }
            p += w;
            left -= (size_t)w;
        }
        if (fdatasync(fd) != 0) {
            perror("bench_audit: fdatasync");
            goto out;
        }
        bytes += b.len;
    }
    t1 = tq_time_mono_us();
    rate = bench_per_second(n, t0, t1);
    *bytes_out = bytes;
out:
    if (err.rc)
        fprintf(stderr, "bench_audit: %s\n", err.msg);
    if (fd >= 0)
        close(fd);
    unlink(path);
    tq_buf_cleanup(&b);
    return rate;
}

int main(int argc, char **argv)
{
    size_t n = bench_arg_size(argc, argv, 1, 200000);
    size_t batch = bench_arg_size(argc, argv, 2, 256);
    char dir[64], db[96], raw_path[96];
    struct leaf *leaves = tq_xcalloc(n, sizeof(*leaves));
    double best_log = 0, best_raw = 0;
    uint64_t bytes = 0;
    int ret = 1;

    tq_log_set_level(TQ_LOG_WARN);
    for (size_t i = 0; i < n; i++) {
        uint8_t r[16];

        randombytes_buf(r, sizeof(r));
        snprintf(
            leaves[i].object, sizeof(leaves[i].object),
            "indicator--%02x%02x%02x%02x-%02x%02x-4%01x%02x-8%01x%02x-%02x%02x%02x%02x%02x%02x",
            r[0], r[1], r[2], r[3], r[4], r[5], r[6] & 15, r[7], r[8] & 15, r[9], r[10], r[11],
            r[12], r[13], r[14], r[15]);
        randombytes_buf(leaves[i].sha256, sizeof(leaves[i].sha256));
    }
    snprintf(dir, sizeof(dir), "%s", "/tmp/tq-bench-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("bench_audit: mkdtemp");
        goto out;
    }
    snprintf(db, sizeof(db), "%s/audit.db", dir);
    snprintf(raw_path, sizeof(raw_path), "%s/raw.log", dir);
    printf("bench_audit: %zu leaves in batches of %zu (one durable commit per batch), in %s\n", n,
           batch, dir);
    for (int round = 0; round < ROUNDS; round++) {
        double r = run_raw(raw_path, leaves, n, batch, &bytes);
        double l = run_log(db, leaves, n, batch);

        if (r < 0 || l < 0)
            goto out;
        best_raw = r > best_raw ? r : best_raw;
        best_log = l > best_log ? l : best_log;
    }
    printf("durable appends (store + tree, %zu per commit): %.0f leaves/s; raw write+fdatasync of "
           "the same %.0f bytes/leaf: %.0f leaves/s; ratio %.2f; goal %.0f/s: %.2f of it\n",
           batch, best_log, (double)bytes / (double)n, best_raw, best_log / best_raw, GOAL_PER_S,
           best_log / GOAL_PER_S);
    ret = 0;
out:
    rmdir(dir);
    tq_free(leaves);
    return ret;
}
