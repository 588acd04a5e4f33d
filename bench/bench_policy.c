/* SPDX-License-Identifier: Apache-2.0
 *
 * bench/bench_policy.c - the cost of release filtering on TAXII reads.
 *
 * A collection of at least 100,000 ATT&CK ICS objects (bench_util.h) and 10 partners; each
 * object is released to one partner chosen at random, so each partner may see about 10% of the
 * collection. The figure is the rate of pages of limit=100 read through tq_store_query with the
 * object JSON (the objects route), walking the whole collection with next cursors: as each of
 * the 10 partners (together about as many pages as one unfiltered walk) against unfiltered
 * walks (partner NULL). Best of three rounds each, alternating. The same for manifests (no
 * JSON) is printed too, and the objects route again with each row appended to an envelope buffer
 * as the TAXII layer does (the part of a GET that costs the same filtered or not).
 *
 * Usage: bench_policy [OBJECTS]   (default 100000); the database lives in a temporary directory.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "tansiq/policy.h"
#include "tansiq/store.h"

#define COLL "2c6a1f0e-4b1d-4e8f-9a3c-7d5e6f708192"
#define N_PARTNERS 10
#define PAGE 100
#define BATCH 10000

/* What the TAXII layer does with a row: append it to the envelope being built. */
static bool build_envelope;
static struct tq_buf envelope;

static tq_rc touch_row(void *ud, const struct tq_store_row *row)
{
    size_t *bytes = ud;

    *bytes += row->json_len + strlen(row->id);
    if (!build_envelope)
        return TQ_OK;
    if (tq_buf_append(&envelope, ",", 1) ||
        tq_buf_append_json_str(&envelope, row->id, strlen(row->id)))
        return TQ_ENOMEM;
    return row->json ? tq_buf_append(&envelope, row->json, row->json_len) : TQ_OK;
}

/* Walk the collection as partner (NULL: unfiltered); returns pages read, adds rows to *rows. */
static size_t walk(struct tq_store *s, const char *partner, bool with_json, size_t *rows)
{
    struct tq_store_query q = {.collection_id = COLL, .limit = PAGE, .partner = partner};
    struct tq_store_page_info info;
    struct tq_err err = {0};
    size_t pages = 0, bytes = 0;

    for (;;) {
        tq_buf_reset(&envelope);
        if (tq_store_query(s, &q, with_json, touch_row, &bytes, &info, &err)) {
            fprintf(stderr, "bench_policy: query: %s\n", err.msg);
            exit(1);
        }
        pages++;
        *rows += info.n;
        if (!info.more)
            break;
        q.has_cursor = true;
        q.cursor = info.next;
    }
    return pages;
}

static double rate(size_t pages, int64_t t0, int64_t t1)
{
    return (double)pages * 1e6 / (double)(t1 - t0 > 0 ? t1 - t0 : 1);
}

static void measure(struct tq_store *s, bool with_json, double *filtered, double *unfiltered,
                    size_t *rows_f, size_t *rows_u)
{
    static const char *const names[N_PARTNERS] = {"p0", "p1", "p2", "p3", "p4",
                                                  "p5", "p6", "p7", "p8", "p9"};
    size_t pages, round, p;
    int64_t t0, t1;
    double r;

    *filtered = *unfiltered = 0;
    for (round = 0; round < 3; round++) {
        *rows_f = 0;
        pages = 0;
        t0 = tq_time_mono_us();
        for (p = 0; p < N_PARTNERS; p++)
            pages += walk(s, names[p], with_json, rows_f);
        t1 = tq_time_mono_us();
        r = rate(pages, t0, t1);
        *filtered = r > *filtered ? r : *filtered;

        *rows_u = 0;
        t0 = tq_time_mono_us();
        pages = walk(s, NULL, with_json, rows_u);
        t1 = tq_time_mono_us();
        r = rate(pages, t0, t1);
        *unfiltered = r > *unfiltered ? r : *unfiltered;
    }
}

int main(int argc, char **argv)
{
    static const char *const audiences[N_PARTNERS] = {
        "partner:p0", "partner:p1", "partner:p2", "partner:p3", "partner:p4",
        "partner:p5", "partner:p6", "partner:p7", "partner:p8", "partner:p9"};
    size_t want = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    char dir[64], path[96], src[512], p[128];
    struct tq_collection coll = {.title = "bench"};
    struct tq_store_facts *facts = NULL;
    struct tq_stix_object *objs = NULL;
    struct bench_tmpl *t = NULL;
    struct tq_store *s = NULL;
    struct tq_err err = {0};
    size_t n_t = 0, i, rows_f, rows_u;
    double f, u, fm, um, fe, ue;
    uint64_t seed;
    int ret = 1;

    if (want < 1000)
        want = 1000;
    snprintf(src, sizeof(src), "%s/attack/ics-attack-18.1.json", bench_testdata_dir());
    if (access(src, R_OK) != 0) {
        fprintf(stderr, "bench_policy: skipped, no %s (set TANSIQ_TESTDATA)\n", src);
        return 0;
    }
    if (bench_templates_load(src, &t, &n_t) || n_t == 0)
        return 1;
    objs = bench_objects_make(t, n_t, want);
    facts = tq_xcalloc(want, sizeof(*facts));
    seed = (uint64_t)tq_time_now_us();
    for (i = 0; i < want; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        facts[i].release_to = audiences[(seed >> 33) % N_PARTNERS];
    }

    snprintf(dir, sizeof(dir), "/tmp/tq-bench-policy-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        goto out;
    }
    snprintf(path, sizeof(path), "%s/store.db", dir);
    snprintf(coll.id, sizeof(coll.id), "%s", COLL);
    if (tq_store_open(path, NULL, &s, &err) || tq_store_collection_add(s, &coll, &err))
        goto fail;
    for (i = 0; i < N_PARTNERS; i++) {
        struct tq_partner pt;

        memset(&pt, 0, sizeof(pt));
        snprintf(pt.name, sizeof(pt.name), "p%zu", i);
        if (tq_policy_partner_add(s, &pt, &err))
            goto fail;
    }
    /* Stored with their facts and decided by the policy's decision, as tq_policy_put does. */
    for (i = 0; i < want; i += BATCH) {
        size_t n = want - i < BATCH ? want - i : BATCH;

        if (tq_store_put_ex(s, COLL, objs + i, facts + i, n, tq_policy_decide_cb, NULL, NULL, NULL,
                            &err))
            goto fail;
    }

    tq_buf_init(&envelope, (size_t)64 << 20);
    measure(s, true, &f, &u, &rows_f, &rows_u);
    measure(s, false, &fm, &um, &rows_f, &rows_u);
    build_envelope = true;
    measure(s, true, &fe, &ue, &rows_f, &rows_u);
    tq_buf_cleanup(&envelope);
    if (rows_f != rows_u) {
        fprintf(stderr, "bench_policy: partners read %zu rows in all, unfiltered %zu\n", rows_f,
                rows_u);
        goto out;
    }
    printf("policy filter: partner (10%% visible) %.0f pages/s; unfiltered %.0f pages/s; ratio "
           "%.2f (goal >= 0.80)\n",
           f, u, f / u);
    printf("policy filter, manifest: partner %.0f pages/s; unfiltered %.0f pages/s; ratio %.2f\n",
           fm, um, fm / um);
    printf("policy filter, objects + envelope copy: partner %.0f pages/s; unfiltered %.0f "
           "pages/s; ratio %.2f\n",
           fe, ue, fe / ue);
    printf("(%zu objects, %d partners, pages of %d, best of 3)\n", want, N_PARTNERS, PAGE);
    ret = 0;
    goto out;
fail:
    fprintf(stderr, "bench_policy: %s\n", err.msg);
out:
    tq_store_close(s);
    snprintf(p, sizeof(p), "%s/store.db", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/store.db-wal", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/store.db-shm", dir);
    unlink(p);
    rmdir(dir);
    tq_free(facts);
    bench_objects_free(objs, want);
    bench_templates_free(t, n_t);
    return ret;
}
