/* SPDX-License-Identifier: Apache-2.0
 *
 * bench/bench_policy.c - the cost of release filtering on TAXII reads.
 *
 * A node home in a temporary directory holds a collection of at least 100,000 ATT&CK ICS
 * objects (bench_util.h) and 10 partners; each object is released to one partner chosen at
 * random, so each partner may see about 10% of the collection.
 *
 * Store level: the rate of pages of limit=100 read through tq_store_query with the object JSON
 * (the objects route), walking the whole collection with next cursors: as each of the 10
 * partners (together about as many pages as one unfiltered walk) against unfiltered walks
 * (partner NULL). Best of three rounds each, alternating. The same for manifests (no JSON) is
 * printed too, and the objects route again with each row appended to an envelope buffer as the
 * TAXII layer does (the part of a GET that costs the same filtered or not).
 *
 * Over HTTPS, the figure issue 3 asks for: the node's own server started in-process on
 * 127.0.0.1, and GET objects/?limit=100 pages walked with next (restarting at the first page at
 * the end) by HTTP_THREADS libcurl clients, each on its own kept-alive connection, for
 * HTTP_PAGES pages or HTTP_SECONDS, whichever comes first. Partner mode: the clients present the
 * node's own certificate and key, registered as partner p0's pinned certificate (a node is its
 * own partner here), so the principal is partner:p0 and its reads are filtered. Unfiltered mode:
 * a local user with read on the collection, HTTP Basic, no client certificate. Each mode runs
 * HTTP_ROUNDS times, alternating, and the best run counts. The client does no more than count the
 * bytes and find the "next" value at the end of each body, so the server dominates. The server
 * runs with the audit log, as `tansiq serve` does: each page a partner is given is queued as a
 * read event and written in batches (250 ms or 256), which is part of the partner figure.
 *
 * Usage: bench_policy [OBJECTS]   (default 100000)
 */
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bench_util.h"
#include "tansiq/audit.h"
#include "tansiq/node.h"
#include "tansiq/policy.h"
#include "tansiq/server.h"
#include "tansiq/store.h"

#define COLL "2c6a1f0e-4b1d-4e8f-9a3c-7d5e6f708192"
#define N_PARTNERS 10
#define PAGE 100
#define BATCH 10000

#define HTTP_THREADS 2
#define HTTP_PAGES 4000 /* per run, all threads together */
#define HTTP_SECONDS 5
#define HTTP_ROUNDS 3
#define TAIL_MAX 1024 /* the end of a body, where "next" is */
#define USER "bench"
#define PASSWORD "bench-password-not-secret"

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

/* ---- over HTTPS ------------------------------------------------------------------------- */

/* One client: its own easy handle, so its own kept-alive connection. */
struct client {
    CURL *h;
    const char *objects_url; /* .../collections/COLL/objects/ */
    size_t max_pages;
    char tail[TAIL_MAX]; /* the last bytes of the body being received */
    size_t tail_len;
    char next[TAIL_MAX];
    size_t pages;
    uint64_t bytes;
    int64_t t0, t1;
    pthread_barrier_t *start;
    int failed;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct client *c = ud;
    size_t n = size * nmemb;

    c->bytes += n;
    if (n >= TAIL_MAX) {
        memcpy(c->tail, data + n - TAIL_MAX, TAIL_MAX);
        c->tail_len = TAIL_MAX;
    } else {
        size_t keep = c->tail_len + n > TAIL_MAX ? TAIL_MAX - n : c->tail_len;

        memmove(c->tail, c->tail + c->tail_len - keep, keep);
        memcpy(c->tail + keep, data, n);
        c->tail_len = keep + n;
    }
    return n;
}

/* The "next" value at the end of the body received, or "" when the page is the last. */
static void find_next(struct client *c)
{
    static const char key[] = "\"next\":\"";
    const char *at = NULL, *p = c->tail, *end = c->tail + c->tail_len, *q;

    for (;;) {
        q = memmem(p, (size_t)(end - p), key, sizeof(key) - 1);
        if (!q)
            break;
        at = q;
        p = q + 1;
    }
    c->next[0] = '\0';
    if (!at)
        return;
    at += sizeof(key) - 1;
    q = memchr(at, '"', (size_t)(end - at));
    if (q && (size_t)(q - at) < sizeof(c->next)) {
        memcpy(c->next, at, (size_t)(q - at));
        c->next[q - at] = '\0';
    }
}

/* GET the page after c->next (the first when ""); 0 on a 200. */
static int get_page(struct client *c)
{
    char url[TAIL_MAX + 256];
    long status = 0;
    CURLcode cc;

    snprintf(url, sizeof(url), "%s?limit=%d%s%s", c->objects_url, PAGE, c->next[0] ? "&next=" : "",
             c->next);
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    c->tail_len = 0;
    cc = curl_easy_perform(c->h);
    if (cc != CURLE_OK) {
        fprintf(stderr, "bench_policy: GET: %s\n", curl_easy_strerror(cc));
        return -1;
    }
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "bench_policy: GET: HTTP %ld: %.*s\n", status, (int)c->tail_len, c->tail);
        return -1;
    }
    find_next(c);
    return 0;
}

static void *client_run(void *ud)
{
    struct client *c = ud;
    int64_t until;

    /* One page off the clock: the connection, its handshake and the first authentication. */
    c->next[0] = '\0';
    c->failed = get_page(c);
    c->next[0] = '\0';
    c->pages = 0;
    c->bytes = 0;
    pthread_barrier_wait(c->start);
    c->t0 = tq_time_mono_us();
    until = c->t0 + (int64_t)HTTP_SECONDS * 1000000;
    while (!c->failed && c->pages < c->max_pages && tq_time_mono_us() < until) {
        c->failed = get_page(c);
        c->pages++;
    }
    c->t1 = tq_time_mono_us();
    return NULL;
}

/* One run of HTTP_THREADS clients; pages per second, -1 on a failure. */
static double http_run(struct client *cl, uint64_t *bytes, size_t *pages)
{
    pthread_barrier_t start;
    pthread_t th[HTTP_THREADS];
    size_t i, started = 0, n = 0;
    int64_t t0 = INT64_MAX, t1 = 0;
    double r = -1;

    pthread_barrier_init(&start, NULL, HTTP_THREADS);
    *bytes = 0;
    for (i = 0; i < HTTP_THREADS; i++) {
        cl[i].start = &start;
        cl[i].max_pages = HTTP_PAGES / HTTP_THREADS;
        if (pthread_create(&th[i], NULL, client_run, &cl[i]) != 0) {
            fprintf(stderr, "bench_policy: cannot start a client thread\n");
            exit(1);
        }
        started++;
    }
    for (i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (i = 0; i < HTTP_THREADS; i++) {
        if (cl[i].failed)
            return -1;
        n += cl[i].pages;
        *bytes += cl[i].bytes;
        t0 = cl[i].t0 < t0 ? cl[i].t0 : t0;
        t1 = cl[i].t1 > t1 ? cl[i].t1 : t1;
    }
    *pages = n;
    r = rate(n, t0, t1);
    return r;
}

/* A client handle: partner (mTLS with the node's certificate) or user (Basic, no certificate). */
static CURL *client_handle(struct client *c, struct curl_slist *resolve, struct curl_slist *headers,
                           const char *cert, const char *key, bool partner)
{
    CURL *h = curl_easy_init();

    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_CAINFO, cert);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (partner) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, cert);
        curl_easy_setopt(h, CURLOPT_SSLKEY, key);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, USER ":" PASSWORD);
    }
    c->h = h;
    return h;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Partners p0..p9, p0 pinned to the node's own certificate; read on the collection for p0. */
static tq_rc add_partners(struct tq_node *node, struct tq_err *err)
{
    struct tq_store *s = tq_node_store(node);
    struct tq_node_identity id;
    struct tq_partner pt;
    size_t i;
    tq_rc rc;

    memset(&id, 0, sizeof(id));
    rc = tq_node_identity(node, &id, err);
    for (i = 0; rc == TQ_OK && i < N_PARTNERS; i++) {
        memset(&pt, 0, sizeof(pt));
        snprintf(pt.name, sizeof(pt.name), "p%zu", i);
        pt.added_us = tq_time_now_us();
        if (i == 0) {
            pt.cert_pem = id.cert_pem;
            memcpy(pt.cert_sha256, id.cert_sha256, sizeof(pt.cert_sha256));
        }
        rc = tq_policy_partner_add(s, &pt, err);
        /* A release needs the grant as well as the policy. */
        if (rc == TQ_OK)
            rc = tq_policy_partner_grant(s, pt.name, COLL, true, err);
    }
    tq_node_identity_cleanup(&id);
    return rc;
}

/* The local user of the unfiltered reads: Basic, read on the collection. */
static tq_rc add_user(struct tq_store *s, struct tq_err *err)
{
    char *hash = NULL;
    tq_rc rc;

    rc = tq_auth_password_hash(PASSWORD, &hash, err);
    if (rc == TQ_OK)
        rc = tq_store_user_put(s, USER, hash, err);
    if (rc == TQ_OK)
        rc = tq_store_perm_set(s, USER, COLL, true, false, err);
    tq_free(hash);
    return rc;
}

/*
 * Partner and user walks over HTTPS against srv, alternating, best of HTTP_ROUNDS; 0 on
 * success with pages per second in *fp and *up, bytes per page in *fb and *ub.
 */
static int measure_http(struct tq_node *node, struct tq_server *srv, double *fp, double *up,
                        double *fb, double *ub)
{
    struct client part[HTTP_THREADS], user[HTTP_THREADS];
    struct curl_slist *resolve = NULL, *headers = NULL;
    const char *cert, *key;
    char url[256], res[64];
    size_t i, pages;
    uint64_t bytes;
    double r;
    int round, ret = -1;

    memset(part, 0, sizeof(part));
    memset(user, 0, sizeof(user));
    tq_node_tls_paths(node, &cert, &key);
    snprintf(res, sizeof(res), "localhost:%u:127.0.0.1", (unsigned)tq_server_port(srv));
    snprintf(url, sizeof(url), "https://localhost:%u/api/collections/%s/objects/",
             (unsigned)tq_server_port(srv), COLL);
    resolve = curl_slist_append(NULL, res);
    headers =
        resolve ? curl_slist_append(NULL, "Accept: application/taxii+json;version=2.1") : NULL;
    if (!headers)
        goto out;
    for (i = 0; i < HTTP_THREADS; i++) {
        part[i].objects_url = user[i].objects_url = url;
        if (!client_handle(&part[i], resolve, headers, cert, key, true) ||
            !client_handle(&user[i], resolve, headers, cert, key, false))
            goto out;
    }
    *fp = *up = 0;
    for (round = 0; round < HTTP_ROUNDS; round++) {
        r = http_run(part, &bytes, &pages);
        if (r < 0)
            goto out;
        if (r > *fp) {
            *fp = r;
            *fb = (double)bytes / (double)(pages ? pages : 1);
        }
        r = http_run(user, &bytes, &pages);
        if (r < 0)
            goto out;
        if (r > *up) {
            *up = r;
            *ub = (double)bytes / (double)(pages ? pages : 1);
        }
    }
    ret = 0;
out:
    for (i = 0; i < HTTP_THREADS; i++) {
        curl_easy_cleanup(part[i].h);
        curl_easy_cleanup(user[i].h);
    }
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve);
    return ret;
}

int main(int argc, char **argv)
{
    static const char *const audiences[N_PARTNERS] = {
        "partner:p0", "partner:p1", "partner:p2", "partner:p3", "partner:p4",
        "partner:p5", "partner:p6", "partner:p7", "partner:p8", "partner:p9"};
    size_t want = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    char dir[64], home[96], src[512];
    struct tq_collection coll = {.title = "bench"};
    struct tq_node_init_opts o = {.title = "bench"};
    struct tq_server_config cfg;
    struct tq_store_facts *facts = NULL;
    struct tq_stix_object *objs = NULL;
    struct bench_tmpl *t = NULL;
    struct tq_node *node = NULL;
    struct tq_server *srv = NULL;
    struct tq_audit_log *audit = NULL;
    struct tq_store *s = NULL;
    struct tq_err err = {0};
    size_t n_t = 0, i, rows_f, rows_u;
    double f, u, fm, um, fe, ue, hf = 0, hu = 0, hfb = 0, hub = 0;
    bool made = false, curl_up = false;
    uint64_t seed;
    int ret = 1;

    if (want < 1000)
        want = 1000;
    tq_log_set_level(TQ_LOG_ERROR);
    snprintf(src, sizeof(src), "%s/attack/ics-attack-18.1.json", bench_testdata_dir());
    if (access(src, R_OK) != 0) {
        printf("bench_policy: skipped, no %s (set TANSIQ_TESTDATA)\n", src);
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
    made = true;
    snprintf(home, sizeof(home), "%s/home", dir);
    snprintf(coll.id, sizeof(coll.id), "%s", COLL);
    if (tq_node_init(home, &o, &err) || tq_node_open(home, &node, &err))
        goto fail;
    s = tq_node_store(node);
    if (tq_store_collection_add(s, &coll, &err) || add_partners(node, &err) || add_user(s, &err))
        goto fail;
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

    if (tq_node_server_config(node, &cfg, &err))
        goto fail;
    cfg.listen_addr = "127.0.0.1";
    cfg.port = 0;
    /* As `tansiq serve` runs: every page a partner reads is queued for the audit log. */
    if (tq_audit_log_open(s, NULL, &audit, &err))
        goto fail;
    cfg.audit = audit;
    if (tq_server_start(s, &cfg, &srv, &err))
        goto fail;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "bench_policy: libcurl failed to initialise\n");
        goto out;
    }
    curl_up = true;
    if (measure_http(node, srv, &hf, &hu, &hfb, &hub))
        goto out;

    printf("policy filter over HTTPS: partner (10%% visible, mTLS) %.0f pages/s; unfiltered "
           "(user) %.0f pages/s; ratio %.2f (goal >= 0.80)\n",
           hf, hu, hf / hu);
    printf("(HTTPS: GET objects/?limit=%d walked with next, %d clients on kept-alive "
           "connections, %d pages or %d s a run, best of %d; %.0f and %.0f bytes a page)\n",
           PAGE, HTTP_THREADS, HTTP_PAGES, HTTP_SECONDS, HTTP_ROUNDS, hfb, hub);
    printf("policy filter, store level: partner (10%% visible) %.0f pages/s; unfiltered %.0f "
           "pages/s; ratio %.2f\n",
           f, u, f / u);
    printf("policy filter, store level, manifest: partner %.0f pages/s; unfiltered %.0f pages/s; "
           "ratio %.2f\n",
           fm, um, fm / um);
    printf("policy filter, store level, objects + envelope copy: partner %.0f pages/s; "
           "unfiltered %.0f pages/s; ratio %.2f\n",
           fe, ue, fe / ue);
    printf("(%zu objects, %d partners, pages of %d, store level best of 3)\n", want, N_PARTNERS,
           PAGE);
    ret = 0;
    goto out;
fail:
    fprintf(stderr, "bench_policy: %s\n", err.msg);
out:
    tq_server_stop(srv);
    tq_audit_log_close(audit);
    if (curl_up)
        curl_global_cleanup();
    tq_node_close(node);
    if (made)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    tq_free(facts);
    bench_objects_free(objs, want);
    bench_templates_free(t, n_t);
    return ret;
}
