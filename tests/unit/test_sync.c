/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_sync.c - partner sync between two real nodes over mutual TLS.
 *
 * The group setup initialises two homes, "a" and "b", in a temporary directory, registers each
 * as the other's partner (pinned certificate, its SHA-256 over the DER), grants b read on a's
 * 'shared' collection with the agreed default TLP:GREEN to partner:b, and starts both servers
 * on 127.0.0.1, port 0, over HTTPS. Objects are put on a with tq_policy_put; b pulls them with
 * tq_sync_partner. The cases run in order and build on each other: first pull, nothing new,
 * an incremental pull, a pull interrupted after two pages and resumed, a lost cursor, the
 * partner down and back, a wrong pinned certificate, a revocation and a withdrawal.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "tansiq/node.h"
#include "tansiq/policy.h"
#include "tansiq/server.h"
#include "tansiq/sync.h"
#include "sync/sync.h"
#include "fixture.h"

#define FIRST_BATCH 200
#define RED_BATCH 20

struct side {
    char home[128];
    char cert[192];
    char url[64];
    struct tq_node *node;
    struct tq_server *srv;
    uint16_t port;
    char shared[37];
};

static struct {
    char dir[64];
    struct side a, b;
    char local[37];  /* b's collection receiving a's 'shared' */
    size_t released; /* objects on a released to b so far */
    char red_id[TQ_STIX_ID_MAX];
    char first_id[TQ_STIX_ID_MAX];
    char revoke_id[TQ_STIX_ID_MAX];
} w;

static const struct tq_sync_options fast = {.backoff_ms = 10, .backoff_max_ms = 40};

/* ---- helpers ---------------------------------------------------------------------------- */

static void add_partner(struct side *on, const char *name, const struct side *other,
                        const char *cert_pem_path)
{
    struct tq_partner p = {0};
    struct tq_err err = {0};
    char *pem = read_text(cert_pem_path);

    snprintf(p.name, sizeof(p.name), "%s", name);
    p.taxii_url = (char *)other->url;
    p.cert_pem = pem;
    cert_sha256(pem, p.cert_sha256);
    p.added_us = tq_time_now_us();
    if (tq_policy_partner_add(tq_node_store(on->node), &p, &err))
        fail_msg("partner %s: %s", name, err.msg);
    tq_free(pem);
}

static void start_server(struct side *s)
{
    struct tq_server_config cfg;
    struct tq_err err = {0};

    assert_int_equal(tq_node_server_config(s->node, &cfg, &err), TQ_OK);
    cfg.listen_addr = "127.0.0.1";
    cfg.port = s->port;
    cfg.threads = 2;
    if (tq_server_start(tq_node_store(s->node), &cfg, &s->srv, &err))
        fail_msg("server: %s", err.msg);
    s->port = tq_server_port(s->srv);
    snprintf(s->url, sizeof(s->url), "https://127.0.0.1:%u", s->port);
}

/*
 * Put n indicators on a (origin: this node), TLP:RED ones when red. The first id goes to
 * first_id (may be NULL).
 */
static void put_indicators(size_t n, bool red, const char *modified, char *first_id)
{
    struct tq_buf text;
    struct tq_stix_batch *b = NULL;
    struct tq_stix_object *objs;
    struct tq_err err = {0};
    enum tq_put_result *res;

    tq_buf_init(&text, 16u << 20);
    assert_int_equal(tq_buf_append_c(&text, "["), TQ_OK);
    for (size_t i = 0; i < n; i++) {
        char id[37];

        tq_uuid4(id);
        assert_int_equal(
            tq_buf_printf(&text,
                          "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
                          "\"indicator--%s\",\"created\":\"2026-01-01T00:00:00.000Z\","
                          "\"modified\":\"%s\",\"name\":\"case %zu\",\"pattern_type\":\"stix\","
                          "\"pattern\":\"[ipv4-addr:value = '10.0.%zu.%zu']\",\"valid_from\":"
                          "\"2026-01-01T00:00:00Z\"%s}",
                          i ? "," : "", id, modified, i, i / 250, i % 250,
                          red ? ",\"object_marking_refs\":[\"" TQ_TLP_RED_ID "\"]" : ""),
            TQ_OK);
        if (i == 0 && first_id)
            snprintf(first_id, TQ_STIX_ID_MAX, "indicator--%s", id);
    }
    assert_int_equal(tq_buf_append_c(&text, "]"), TQ_OK);
    if (tq_stix_parse_batch((struct tq_str){text.ptr, text.len}, &b, &err))
        fail_msg("parse: %s", err.msg);
    assert_int_equal(b->n_invalid, 0);
    objs = tq_xcalloc(n, sizeof(*objs));
    res = tq_xcalloc(n, sizeof(*res));
    for (size_t i = 0; i < n; i++)
        objs[i] = b->items[i].obj;
    if (tq_policy_put(tq_node_store(w.a.node), w.a.shared, objs, n, NULL, res, NULL, &err))
        fail_msg("put on a: %s", err.msg);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(res[i], TQ_PUT_STORED);
    if (!red)
        w.released += n;
    tq_free(objs);
    tq_free(res);
    tq_stix_batch_free(b);
    tq_buf_cleanup(&text);
}

/* Put one object given as JSON on a. */
static void put_json_on_a(const char *json)
{
    struct tq_stix_batch *b = NULL;
    struct tq_err err = {0};

    if (tq_stix_parse_batch(tq_str_c(json), &b, &err))
        fail_msg("parse: %s", err.msg);
    assert_int_equal(b->n, 1);
    assert_true(b->items[0].ok);
    if (tq_policy_put(tq_node_store(w.a.node), w.a.shared, &b->items[0].obj, 1, NULL, NULL, NULL,
                      &err))
        fail_msg("put on a: %s", err.msg);
    tq_stix_batch_free(b);
}

static uint64_t count_b(void)
{
    struct tq_err err = {0};
    uint64_t n = 0;

    assert_int_equal(tq_store_count(tq_node_store(w.b.node), w.local, &n, &err), TQ_OK);
    return n;
}

static tq_rc sync_b(const struct tq_sync_options *o, struct tq_sync_stats *st, struct tq_err *err)
{
    const char *cert, *key;

    tq_node_tls_paths(w.b.node, &cert, &key);
    memset(st, 0, sizeof(*st));
    return tq_sync_partner(tq_node_store(w.b.node), cert, key, "a", o, st, err);
}

/* Sync b from a, expecting success and one collection; returns its stats in *cs (copied). */
static void sync_ok(const struct tq_sync_options *o, struct tq_sync_collection_stats *cs)
{
    struct tq_sync_stats st;
    struct tq_err err = {0};
    tq_rc rc = sync_b(o, &st, &err);

    if (rc)
        fail_msg("sync: %s: %s", tq_rc_name(rc), err.msg);
    assert_int_equal(st.n_colls, 1);
    assert_string_equal(st.colls[0].remote_id, w.a.shared);
    assert_string_equal(st.colls[0].local_id, w.local);
    assert_int_equal(st.colls[0].rc, TQ_OK);
    assert_int_equal(st.connections, 1); /* keep-alive: one TLS connection for the whole sync */
    *cs = st.colls[0];
    cs->remote_id = cs->local_id = cs->local_alias = NULL;
    tq_sync_stats_cleanup(&st);
}

struct find {
    const char *id;
    size_t seen;
};

static tq_rc find_row(void *ud, const struct tq_store_row *row)
{
    struct find *f = ud;

    if (strcmp(row->id, f->id) == 0)
        f->seen++;
    return TQ_OK;
}

/* How many versions of id b's local collection holds (as the operator, or as partner). */
static size_t versions_on_b(const char *id, const char *as_partner)
{
    struct tq_store_query q = {0};
    struct tq_store_page_info info;
    struct tq_str ids[1] = {tq_str_c(id)};
    struct find f = {id, 0};
    struct tq_err err = {0};

    q.collection_id = w.local;
    q.limit = 1000;
    q.ids = ids;
    q.n_ids = 1;
    q.version_flags = TQ_MATCH_ALL;
    q.partner = as_partner;
    assert_int_equal(tq_store_query(tq_node_store(w.b.node), &q, false, find_row, &f, &info, &err),
                     TQ_OK);
    return f.seen;
}

/* ---- setup ------------------------------------------------------------------------------ */

static void open_side(struct side *s, const char *name)
{
    struct tq_node_init_opts o = {.title = name};
    struct tq_collection c = {0};
    struct tq_err err = {0};

    snprintf(s->home, sizeof(s->home), "%s/%s", w.dir, name);
    snprintf(s->cert, sizeof(s->cert), "%s/tls/cert.pem", s->home);
    if (tq_node_init(s->home, &o, &err) || tq_node_open(s->home, &s->node, &err))
        fail_msg("node %s: %s", name, err.msg);
    assert_int_equal(tq_store_collection_get(tq_node_store(s->node), "shared", &c, &err), TQ_OK);
    memcpy(s->shared, c.id, sizeof(s->shared));
    tq_collection_cleanup(&c);
    start_server(s);
}

static int setup(void **state)
{
    struct tq_err err = {0};

    (void)state;
    tq_log_set_level(TQ_LOG_ERROR);
    memset(&w, 0, sizeof(w));
    snprintf(w.dir, sizeof(w.dir), "/tmp/tq-sync-XXXXXX");
    assert_non_null(mkdtemp(w.dir));
    open_side(&w.a, "a");
    open_side(&w.b, "b");
    add_partner(&w.a, "b", &w.b, w.b.cert);
    add_partner(&w.b, "a", &w.a, w.a.cert);
    assert_int_equal(
        tq_store_perm_set(tq_node_store(w.a.node), "partner:b", w.a.shared, true, false, &err),
        TQ_OK);
    if (tq_policy_collection_default_set(tq_node_store(w.a.node), w.a.shared, TQ_TLP_GREEN,
                                         "partner:b", &err))
        fail_msg("collection default: %s", err.msg);
    tq__sync_local_id("a", w.a.shared, w.local);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tq_server_stop(w.a.srv);
    tq_server_stop(w.b.srv);
    tq_node_close(w.a.node);
    tq_node_close(w.b.node);
    nftw(w.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- pure helpers ----------------------------------------------------------------------- */

static void helpers_pin_and_local_id(void **state)
{
    struct tq_err err = {0};
    char pin[TQ_SYNC_PIN_MAX], id1[37], id2[37], id3[37];
    char *pem = read_text(w.a.cert);

    (void)state;
    assert_int_equal(tq__sync_pubkey_pin(pem, pin, &err), TQ_OK);
    assert_int_equal(strlen(pin), 8 + 44);
    assert_memory_equal(pin, "sha256//", 8);
    assert_int_equal(tq__sync_pubkey_pin("not a certificate", pin, &err), TQ_ECONFIG);
    tq_free(pem);

    tq__sync_local_id("a", "0b1d5a8e-8c55-4a4b-9c62-6b3c0e7a1f10", id1);
    tq__sync_local_id("a", "0b1d5a8e-8c55-4a4b-9c62-6b3c0e7a1f10", id2);
    tq__sync_local_id("ab", "0b1d5a8e-8c55-4a4b-9c62-6b3c0e7a1f10", id3);
    assert_string_equal(id1, id2);
    assert_string_not_equal(id1, id3);
    assert_true(tq_uuid_valid(tq_str_c(id1)));
    assert_int_equal(id1[14], '8');
}

static void helpers_listed_set(void **state)
{
    struct tq__sync_set s;

    (void)state;
    tq__sync_set_init(&s, 3);
    assert_false(tq__sync_set_has(&s, "x--1", 1));
    assert_int_equal(tq__sync_set_add(&s, "x--1", 1), TQ_OK);
    assert_int_equal(tq__sync_set_add(&s, "x--2", TQ__SYNC_ANY_VERSION), TQ_OK);
    assert_int_equal(tq__sync_set_add(&s, "x--3", 7), TQ_OK);
    assert_int_equal(tq__sync_set_add(&s, "x--4", 7), TQ_ETOOBIG);
    assert_true(tq__sync_set_has(&s, "x--1", 1));
    assert_false(tq__sync_set_has(&s, "x--1", 2));
    assert_true(tq__sync_set_has(&s, "x--2", TQ__SYNC_ANY_VERSION));
    assert_false(tq__sync_set_has(&s, "x--2", 0));
    assert_true(tq__sync_set_has(&s, "x--3", 7));
    tq__sync_set_cleanup(&s);
}

/* ---- sync between the two nodes --------------------------------------------------------- */

static void first_sync_pulls_released_objects(void **state)
{
    struct tq_sync_collection_stats cs;
    struct tq_collection c = {0};
    struct tq_err err = {0};

    (void)state;
    put_indicators(FIRST_BATCH, false, "2026-01-02T00:00:00.000Z", w.first_id);
    put_indicators(RED_BATCH, true, "2026-01-02T00:00:00.000Z", w.red_id);
    sync_ok(&fast, &cs);
    assert_int_equal(cs.listed, FIRST_BATCH); /* TLP:RED never appears, not even listed */
    assert_int_equal(cs.fetched, FIRST_BATCH);
    assert_int_equal(cs.stored, FIRST_BATCH);
    assert_int_equal(cs.present, 0);
    assert_int_equal(cs.refused, 0);
    assert_true(cs.full && cs.complete);
    assert_int_equal(count_b(), FIRST_BATCH);
    assert_int_equal(versions_on_b(w.first_id, NULL), 1);
    assert_int_equal(versions_on_b(w.red_id, NULL), 0);

    /* The local collection is named after the partner and the remote collection. */
    assert_int_equal(tq_store_collection_get(tq_node_store(w.b.node), w.local, &c, &err), TQ_OK);
    assert_string_equal(c.alias, "a.shared");
    assert_string_equal(c.title, "Shared intelligence (from a)");
    tq_collection_cleanup(&c);

    /* Provenance: what came from a is never released back to a. */
    assert_int_equal(versions_on_b(w.first_id, "a"), 0);
}

static void second_sync_fetches_nothing(void **state)
{
    struct tq_sync_collection_stats cs;

    (void)state;
    sync_ok(&fast, &cs);
    assert_int_equal(cs.listed, 0); /* the cursor: the manifest after it is empty */
    assert_int_equal(cs.fetched, 0);
    assert_int_equal(cs.stored, 0);
    assert_int_equal(count_b(), FIRST_BATCH);
}

static void incremental_sync_fetches_only_new(void **state)
{
    struct tq_sync_collection_stats cs;

    (void)state;
    put_indicators(30, false, "2026-01-03T00:00:00.000Z", NULL);
    sync_ok(&fast, &cs);
    assert_int_equal(cs.listed, 30);
    assert_int_equal(cs.fetched, 30);
    assert_int_equal(cs.stored, 30);
    assert_false(cs.full);
    assert_int_equal(count_b(), w.released);
}

static void interrupted_sync_resumes_exactly_once(void **state)
{
    struct tq_sync_options o = fast;
    struct tq_sync_collection_stats cs;

    (void)state;
    put_indicators(300, false, "2026-01-04T00:00:00.000Z", NULL);
    /* Stop after two manifest pages of 50, as a crash or a cut connection would. */
    o.page_limit = 50;
    o.max_pages = 2;
    sync_ok(&o, &cs);
    assert_int_equal(cs.listed, 100);
    assert_int_equal(cs.stored, 100);
    assert_false(cs.complete);
    assert_int_equal(count_b(), w.released - 200);

    sync_ok(&fast, &cs);
    assert_int_equal(cs.listed, 200);
    assert_int_equal(cs.fetched, 200);
    assert_int_equal(cs.stored, 200);
    assert_int_equal(cs.present, 0);
    assert_true(cs.complete);
    assert_int_equal(count_b(), w.released);
}

static void lost_cursor_refetches_nothing(void **state)
{
    struct tq_sync_collection_stats cs;
    struct tq_err err = {0};
    char key[256];

    (void)state;
    /* As if the node died after storing but before its cursor moved: the whole manifest is read
     * again, and every version is found here already, so nothing is fetched. */
    snprintf(key, sizeof(key), "sync.a.%s.cursor", w.a.shared);
    assert_int_equal(
        tq_store_meta_set(tq_node_store(w.b.node), key, "2025-01-01T00:00:00.000000Z", &err),
        TQ_OK);
    sync_ok(&fast, &cs);
    assert_int_equal(cs.listed, w.released);
    assert_int_equal(cs.fetched, 0);
    assert_int_equal(cs.stored, 0);
    assert_int_equal(count_b(), w.released);
}

static void partner_down_then_back(void **state)
{
    struct tq_sync_options o = fast;
    struct tq_sync_collection_stats cs;
    struct tq_sync_stats st;
    struct tq_err err = {0};
    tq_rc rc;

    (void)state;
    put_indicators(10, false, "2026-01-05T00:00:00.000Z", NULL);
    tq_server_stop(w.a.srv);
    w.a.srv = NULL;
    o.max_attempts = 3;
    rc = sync_b(&o, &st, &err);
    assert_int_equal(rc, TQ_EIO);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.requests, 3);
    tq_sync_stats_cleanup(&st);
    assert_int_equal(count_b(), w.released - 10);

    start_server(&w.a); /* the same port */
    sync_ok(&fast, &cs);
    assert_int_equal(cs.stored, 10);
    assert_int_equal(count_b(), w.released);
}

static void wrong_certificate_is_refused(void **state)
{
    struct tq_sync_stats st;
    struct tq_err err = {0};
    const char *cert, *key;
    char local[37];
    struct tq_collection c = {0};
    uint64_t before = count_b();
    tq_rc rc;

    (void)state;
    /* "mallory" claims a's address but b pinned another certificate (its own) for it. */
    add_partner(&w.b, "mallory", &w.a, w.b.cert);
    tq_node_tls_paths(w.b.node, &cert, &key);
    memset(&st, 0, sizeof(st));
    rc = tq_sync_partner(tq_node_store(w.b.node), cert, key, "mallory", &fast, &st, &err);
    assert_int_equal(rc, TQ_ETLS);
    assert_int_equal(st.n_colls, 0);
    tq_sync_stats_cleanup(&st);
    tq__sync_local_id("mallory", w.a.shared, local);
    assert_int_equal(tq_store_collection_get(tq_node_store(w.b.node), local, &c, &err),
                     TQ_ENOTFOUND);
    assert_int_equal(count_b(), before);

    memset(&st, 0, sizeof(st));
    rc = tq_sync_partner(tq_node_store(w.b.node), cert, key, "nobody", &fast, &st, &err);
    assert_int_equal(rc, TQ_ENOTFOUND);
    tq_sync_stats_cleanup(&st);
}

static void revocation_propagates(void **state)
{
    struct tq_sync_collection_stats cs;
    char json[1024];
    char id[37];

    (void)state;
    tq_uuid4(id);
    snprintf(w.revoke_id, sizeof(w.revoke_id), "indicator--%s", id);
    snprintf(json, sizeof(json),
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":"
             "\"2026-01-01T00:00:00.000Z\",\"modified\":\"%s\",\"name\":\"to revoke\","
             "\"pattern_type\":\"stix\",\"pattern\":\"[ipv4-addr:value = '10.9.9.9']\","
             "\"valid_from\":\"2026-01-01T00:00:00Z\"%s}",
             w.revoke_id, "2026-01-06T00:00:00.000Z", "");
    put_json_on_a(json);
    snprintf(json, sizeof(json),
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":"
             "\"2026-01-01T00:00:00.000Z\",\"modified\":\"%s\",\"name\":\"to revoke\","
             "\"pattern_type\":\"stix\",\"pattern\":\"[ipv4-addr:value = '10.9.9.9']\","
             "\"valid_from\":\"2026-01-01T00:00:00Z\"%s}",
             w.revoke_id, "2026-01-07T00:00:00.000Z", ",\"revoked\":true");
    put_json_on_a(json);
    w.released += 2;
    sync_ok(&fast, &cs);
    assert_int_equal(cs.stored, 2);
    assert_int_equal(versions_on_b(w.revoke_id, NULL), 2);
}

static void full_sync_withdraws_deleted_objects(void **state)
{
    struct tq_sync_options o = fast;
    struct tq_sync_collection_stats cs;
    struct tq_store_query q = {0};
    struct tq_err err = {0};
    size_t deleted = 0;

    (void)state;
    /* The originator deletes an object (TAXII DELETE does this). */
    q.collection_id = w.a.shared;
    q.object_id = w.first_id;
    assert_int_equal(tq_store_delete(tq_node_store(w.a.node), &q, &deleted, &err), TQ_OK);
    assert_int_equal(deleted, 1);
    w.released--;

    /* An incremental sync cannot see a deletion... */
    sync_ok(&fast, &cs);
    assert_int_equal(cs.withdrawn, 0);
    assert_int_equal(versions_on_b(w.first_id, NULL), 1);

    /* ...a full walk does, and removes exactly that object. */
    o.full = true;
    sync_ok(&o, &cs);
    assert_true(cs.full && cs.complete);
    assert_int_equal(cs.listed, w.released);
    assert_int_equal(cs.fetched, 0);
    assert_int_equal(cs.withdrawn, 1);
    assert_int_equal(versions_on_b(w.first_id, NULL), 0);
    assert_int_equal(count_b(), w.released);
    assert_int_equal(versions_on_b(w.revoke_id, NULL), 2);

    sync_ok(&o, &cs);
    assert_int_equal(cs.withdrawn, 0);
}

/*
 * A version stored before the partner's last sync but released to it only afterwards (here: the
 * partner joins the group its marking names) comes after the partner's cursor in its view, so a
 * plain sync pulls it; the partner's date_added is when it was released.
 */
static void late_release_reaches_plain_sync(void **state)
{
    static const char *const aud[] = {"group:later"};
    struct tq_store *sa = tq_node_store(w.a.node);
    struct tq_sync_collection_stats cs;
    char mid[TQ_STIX_ID_MAX], *mjson = NULL, obj[1024], oid[TQ_STIX_ID_MAX];
    struct tq_err err = {0};
    uint64_t before;

    (void)state;
    assert_int_equal(tq_policy_group_add(sa, "later", &err), TQ_OK);
    assert_int_equal(tq_policy_make_marking(aud, 1, false, NULL, &mjson, mid, &err), TQ_OK);
    put_json_on_a(mjson);
    snprintf(oid, sizeof(oid), "indicator--5d0c2f7e-1b9a-4c3d-8e7f-6a5b4c3d2e1f");
    snprintf(obj, sizeof(obj),
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":"
             "\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
             "\"pattern_type\":\"stix\",\"pattern\":\"[ipv4-addr:value = '10.9.9.9']\","
             "\"valid_from\":\"2026-01-01T00:00:00Z\",\"object_marking_refs\":[\"%s\",\"%s\"]}",
             oid, TQ_TLP_GREEN_ID, mid);
    put_json_on_a(obj);
    put_indicators(3, false, "2026-05-01T00:00:00.000Z", NULL); /* released now */
    sync_ok(&fast, &cs);
    assert_int_equal(versions_on_b(oid, NULL), 0);
    before = count_b();

    assert_int_equal(tq_policy_group_member_set(sa, "later", "b", true, &err), TQ_OK);
    sync_ok(&fast, &cs);
    assert_false(cs.full);
    assert_int_equal(versions_on_b(oid, NULL), 1);
    assert_int_equal(count_b(), before + 2); /* the object and its marking-definition */
    w.released += 2;
    tq_free(mjson);
}

/*
 * Revoking b's grant withdraws every release of the collection to b ("withdrawn" leaves), and
 * b's next plain sync deletes what it received through it; granting again brings it back.
 */
static void revoked_grant_withdraws_copies(void **state)
{
    struct tq_store *sa = tq_node_store(w.a.node);
    struct tq_sync_stats st;
    struct tq_sync_collection_stats cs;
    struct tq_err err = {0};
    uint64_t held = count_b();

    (void)state;
    assert_true(held > 0);
    assert_int_equal(tq_policy_partner_grant(sa, "b", w.a.shared, false, &err), TQ_OK);
    assert_int_equal(sync_b(&fast, &st, &err), TQ_OK);
    assert_int_equal(st.n_colls, 1);
    assert_string_equal(st.colls[0].remote_id, w.a.shared);
    assert_int_equal(st.colls[0].withdrawn, held);
    tq_sync_stats_cleanup(&st);
    assert_int_equal(count_b(), 0);

    assert_int_equal(tq_policy_partner_grant(sa, "b", w.a.shared, true, &err), TQ_OK);
    sync_ok(&fast, &cs);
    assert_int_equal(count_b(), held);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(helpers_pin_and_local_id),
        cmocka_unit_test(helpers_listed_set),
        cmocka_unit_test(first_sync_pulls_released_objects),
        cmocka_unit_test(second_sync_fetches_nothing),
        cmocka_unit_test(incremental_sync_fetches_only_new),
        cmocka_unit_test(interrupted_sync_resumes_exactly_once),
        cmocka_unit_test(lost_cursor_refetches_nothing),
        cmocka_unit_test(partner_down_then_back),
        cmocka_unit_test(wrong_certificate_is_refused),
        cmocka_unit_test(revocation_propagates),
        cmocka_unit_test(full_sync_withdraws_deleted_objects),
        cmocka_unit_test(late_release_reaches_plain_sync),
        cmocka_unit_test(revoked_grant_withdraws_copies),
    };

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("sync", tests, setup, teardown);
}
