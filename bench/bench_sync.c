/* SPDX-License-Identifier: Apache-2.0
 *
 * bench/bench_sync.c - partner sync throughput between two nodes over loopback mutual TLS.
 *
 * Two homes in a temporary directory, "a" and "b", each registered as the other's partner with
 * its pinned certificate, both servers on 127.0.0.1 over HTTPS. Node a holds the data set: MITRE
 * ATT&CK for ICS ($TANSIQ_TESTDATA/attack/ics-attack-18.1.json, 1,826 objects) copied until
 * there are at least 100,000 objects, each copy with a fresh UUID in its id (as bench_import.c
 * does), released to b by the collection's agreed default. The figure is b's tq_sync_partner
 * from a: manifest pages, fetches of 64 ids, validation, inbound checks and policy-aware
 * stores, all over one kept-alive connection.
 *
 * Reference, measured in the same run: the local import rate of the same objects
 * (tq_ingest_text on one bundle text into a fresh store). The ratio sync/import says what the
 * network round trips, the partner's filtered reads and the per-object checks cost on top.
 *
 * Usage: bench_sync [OBJECTS]   (default 100000)
 */
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "bench_util.h"
#include "tansiq/ingest.h"
#include "tansiq/node.h"
#include "tansiq/policy.h"
#include "tansiq/server.h"
#include "tansiq/sync.h"

#define PUT_BATCH 10000

struct side {
    char home[160];
    char cert[200];
    char url[64];
    struct tq_node *node;
    struct tq_server *srv;
    char shared[37];
};

/* A bundle of want re-identified copies of the templates. */
/* A bundle of want re-identified copies of the templates (bench_objects_make). */
static int build_bundle(const struct bench_tmpl *t, size_t n_tmpl, size_t want, struct tq_buf *b)
{
    struct tq_stix_object *objs = bench_objects_make(t, n_tmpl, want);
    int ret = -1;

    tq_buf_init(b, SIZE_MAX / 2);
    if (tq_buf_append_c(b, "{\"type\":\"bundle\",\"id\":\"bundle--4f0c2d6e-9b1a-4e5f-8a7c-"
                           "3d2e1f0a9b8c\",\"objects\":["))
        goto out;
    for (size_t i = 0; i < want; i++)
        if ((i && tq_buf_append(b, ",", 1)) || tq_buf_append(b, objs[i].json, objs[i].json_len))
            goto out;
    ret = tq_buf_append_c(b, "]}") ? -1 : 0;
out:
    bench_objects_free(objs, want);
    return ret;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int open_side(const char *dir, const char *name, struct side *s, struct tq_err *err)
{
    struct tq_node_init_opts o = {.title = name};
    struct tq_server_config cfg;
    struct tq_collection c = {0};

    snprintf(s->home, sizeof(s->home), "%s/%s", dir, name);
    snprintf(s->cert, sizeof(s->cert), "%s/tls/cert.pem", s->home);
    if (tq_node_init(s->home, &o, err) || tq_node_open(s->home, &s->node, err) ||
        tq_store_collection_get(tq_node_store(s->node), "shared", &c, err) ||
        tq_node_server_config(s->node, &cfg, err))
        return -1;
    memcpy(s->shared, c.id, sizeof(s->shared));
    tq_collection_cleanup(&c);
    cfg.listen_addr = "127.0.0.1";
    cfg.port = 0;
    if (tq_server_start(tq_node_store(s->node), &cfg, &s->srv, err))
        return -1;
    snprintf(s->url, sizeof(s->url), "https://127.0.0.1:%u", tq_server_port(s->srv));
    return 0;
}

static int add_partner(struct side *on, const char *name, const struct side *other,
                       struct tq_err *err)
{
    struct tq_partner p = {0};
    struct tq_buf pem;
    unsigned char *der = NULL;
    BIO *bio = NULL;
    X509 *x = NULL;
    int len, ret = -1;

    if (tq_file_read(other->cert, 1u << 20, &pem, err))
        return -1;
    bio = BIO_new_mem_buf(pem.ptr, (int)pem.len);
    x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    len = x ? i2d_X509(x, &der) : -1;
    if (len > 0) {
        SHA256(der, (size_t)len, p.cert_sha256);
        snprintf(p.name, sizeof(p.name), "%s", name);
        p.taxii_url = (char *)other->url;
        p.cert_pem = pem.ptr;
        p.added_us = tq_time_now_us();
        ret = tq_policy_partner_add(tq_node_store(on->node), &p, err) ? -1 : 0;
    }
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(bio);
    tq_buf_cleanup(&pem);
    return ret;
}

/* Store the bundle's objects on a, released to b, before the clock starts. */
static int load_a(struct side *a, struct tq_str text, size_t *n_out, struct tq_err *err)
{
    struct tq_stix_batch *b = NULL;
    struct tq_stix_object *objs = NULL;
    size_t n = 0;
    int ret = -1;

    if (tq_stix_parse_batch(text, &b, err))
        return -1;
    objs = tq_xcalloc(b->n ? b->n : 1, sizeof(*objs));
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].ok)
            objs[n++] = b->items[i].obj;
    for (size_t from = 0; from < n; from += PUT_BATCH) {
        size_t k = n - from < PUT_BATCH ? n - from : PUT_BATCH;

        if (tq_policy_put(tq_node_store(a->node), a->shared, &objs[from], k, NULL, NULL, NULL, err))
            goto out;
    }
    *n_out = n;
    ret = 0;
out:
    tq_free(objs);
    tq_stix_batch_free(b);
    return ret;
}

/* Objects per second through tq_ingest_text into a fresh store; -1 on failure. */
static double run_import(const char *dir, struct tq_str text, size_t n)
{
    struct tq_collection coll = {.title = "bench"};
    struct tq_ingest_stats st = {0};
    struct tq_store *store = NULL;
    struct tq_err err = {0};
    char path[256];
    int64_t t0, t1;
    double rate = -1;

    snprintf(path, sizeof(path), "%s/import.db", dir);
    tq_uuid4(coll.id);
    if (tq_store_open(path, NULL, &store, &err) || tq_store_collection_add(store, &coll, &err))
        goto out;
    t0 = tq_time_mono_us();
    if (tq_ingest_text(store, coll.id, text, 0, NULL, &st, &err))
        goto out;
    t1 = tq_time_mono_us();
    rate = bench_per_second(n, t0, t1);
out:
    if (rate < 0)
        fprintf(stderr, "bench_sync: import: %s\n", err.msg);
    tq_store_close(store);
    return rate;
}

int main(int argc, char **argv)
{
    size_t want = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
    struct side a = {0}, b = {0};
    struct tq_sync_stats st = {0};
    struct tq_err err = {0};
    struct tq_buf text = {0};
    struct bench_tmpl *t = NULL;
    size_t n_tmpl = 0, n = 0;
    char src[512], dir[64];
    const char *cert, *key;
    int64_t t0, t1;
    double sync_rate, import_rate;
    uint64_t stored = 0;
    bool made = false;
    int ret = 1;
    tq_rc rc;

    tq_log_set_level(TQ_LOG_ERROR);
    if (want == 0)
        want = 100000;
    snprintf(src, sizeof(src), "%s/attack/ics-attack-18.1.json", bench_testdata_dir());
    if (access(src, R_OK) != 0) {
        printf("bench_sync: skipped, %s not readable (set TANSIQ_TESTDATA)\n", src);
        return 0;
    }
    snprintf(dir, sizeof(dir), "%s", "/tmp/tq-bench-sync-XXXXXX");
    if (bench_templates_load(src, &t, &n_tmpl) || n_tmpl == 0 || !mkdtemp(dir))
        goto out;
    made = true;
    if (build_bundle(t, n_tmpl, want, &text)) {
        fprintf(stderr, "bench_sync: cannot build the data set\n");
        goto out;
    }
    if (open_side(dir, "a", &a, &err) || open_side(dir, "b", &b, &err) ||
        add_partner(&a, "b", &b, &err) || add_partner(&b, "a", &a, &err) ||
        tq_store_perm_set(tq_node_store(a.node), "partner:b", a.shared, true, false, &err) ||
        tq_policy_collection_default_set(tq_node_store(a.node), a.shared, TQ_TLP_GREEN, "partner:b",
                                         &err) ||
        load_a(&a, (struct tq_str){text.ptr, text.len}, &n, &err)) {
        fprintf(stderr, "bench_sync: setup: %s\n", err.msg);
        goto out;
    }
    printf("bench_sync: %zu objects (%zu ATT&CK ICS templates) from node a to node b over "
           "loopback mTLS, in %s\n",
           n, n_tmpl, dir);

    tq_node_tls_paths(b.node, &cert, &key);
    t0 = tq_time_mono_us();
    rc = tq_sync_partner(tq_node_store(b.node), cert, key, "a", NULL, &st, &err);
    t1 = tq_time_mono_us();
    if (rc) {
        fprintf(stderr, "bench_sync: sync: %s: %s\n", tq_rc_name(rc), err.msg);
        goto out;
    }
    for (size_t i = 0; i < st.n_colls; i++)
        stored += st.colls[i].stored;
    sync_rate = bench_per_second(n, t0, t1);
    import_rate = run_import(dir, (struct tq_str){text.ptr, text.len}, n);
    if (import_rate < 0)
        goto out;
    printf("sync: %.0f objects/s over mTLS; local import %.0f objects/s; ratio %.2f\n", sync_rate,
           import_rate, sync_rate / import_rate);
    printf("sync details: %" PRIu64 " stored, %" PRIu64 " requests, %" PRIu64
           " connection(s), %.2f s\n",
           stored, st.requests, st.connections, (double)(t1 - t0) / 1e6);
    if (stored != n)
        printf("bench_sync: warning: %" PRIu64 " of %zu objects stored\n", stored, n);
    ret = 0;
out:
    tq_sync_stats_cleanup(&st);
    tq_server_stop(a.srv);
    tq_server_stop(b.srv);
    tq_node_close(a.node);
    tq_node_close(b.node);
    if (made)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    tq_buf_cleanup(&text);
    bench_templates_free(t, n_tmpl);
    return ret;
}
