/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_witness_sync.c - witnessing during partner sync, between two real nodes.
 *
 * First the tiles reader alone, against an in-memory tree through a fake fetch: roots and
 * consistency proofs equal the tree's own, tiles are fetched once, a truncated tile is refused.
 * Then the group setup's two homes "a" and "b", each the other's partner with its identity key
 * registered, each sharing its 'shared' collection with the other, both served over HTTPS with
 * their audit log, log signer and witness signer. The cases run in order and build on each
 * other: the add-checkpoint endpoint's statuses; a sync both ways, after which each node holds
 * the other's checkpoint as witness and each one's kept checkpoint carries the other's verified
 * cosignature; more imports and a second sync that advance both; b's receipts of a's entries
 * naming it (with a third partner c on a whose entries never reach b), the partner-only
 * /log/openings endpoint, and an altered opening caught as a warning; a truncated tile refused by
 * the watch step with a warning; a leaf of a's log rewritten, which b's next sync catches with
 * an alarm before pulling anything; a leaf of b's log dropped, which a's next sync catches.
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
#include <sqlite3.h>

#include "http/http.h"
#include "tansiq/audit.h"
#include "tansiq/client.h"
#include "tansiq/node.h"
#include "tansiq/policy.h"
#include "tansiq/server.h"
#include "tansiq/sync.h"
#include "tansiq/witness.h"
#include "sync/sync.h"
#include "fixture.h"

struct side {
    const char *name;
    char home[128];
    char cert[192];
    char url[64];
    struct tq_node *node;
    struct tq_server *srv;
    struct tq_audit_log *audit;
    struct tq_note_signer log_signer;
    struct tq_note_signer witness_signer;
    uint16_t port;
    char shared[37];
};

static struct {
    char dir[64];
    struct side a, b;
    /* after the last good syncs: the sizes each witness state holds, and cosigned sizes */
    uint64_t b_state_of_a;
    uint64_t a_state_of_b;
    uint64_t b_cosigned_by_a;
    uint64_t a_cosigned_by_b;
} w;

static const struct tq_sync_options fast = {.backoff_ms = 10, .backoff_max_ms = 40};

/* ---- helpers ---------------------------------------------------------------------------- */

/* Register other on `on` as a partner: its URL, pinned certificate and identity key. */
static void add_partner(struct side *on, const struct side *other)
{
    struct tq_node_identity id;
    struct tq_partner p = {0};
    struct tq_err err = {0};

    memset(&id, 0, sizeof(id));
    assert_int_equal(tq_node_identity(other->node, &id, &err), TQ_OK);
    snprintf(p.name, sizeof(p.name), "%s", other->name);
    p.taxii_url = (char *)other->url;
    p.cert_pem = id.cert_pem;
    cert_sha256(id.cert_pem, p.cert_sha256);
    p.sign_pubkey = id.sign_pubkey;
    p.added_us = tq_time_now_us();
    if (tq_policy_partner_add(tq_node_store(on->node), &p, &err))
        fail_msg("partner %s: %s", other->name, err.msg);
    tq_node_identity_cleanup(&id);
}

static void open_audit(struct side *s)
{
    struct tq_audit_options ao = {.no_thread = true};
    struct tq_err err = {0};

    if (tq_audit_log_open(tq_node_store(s->node), &ao, &s->audit, &err))
        fail_msg("audit log of %s: %s", s->name, err.msg);
}

static void start_server(struct side *s)
{
    struct tq_server_config cfg;
    struct tq_err err = {0};

    assert_int_equal(tq_node_server_config(s->node, &cfg, &err), TQ_OK);
    cfg.listen_addr = "127.0.0.1";
    cfg.port = s->port;
    cfg.threads = 2;
    cfg.audit = s->audit;
    cfg.log_signer = &s->log_signer;
    cfg.witness_signer = &s->witness_signer;
    if (tq_server_start(tq_node_store(s->node), &cfg, &s->srv, &err))
        fail_msg("server: %s", err.msg);
    s->port = tq_server_port(s->srv);
    snprintf(s->url, sizeof(s->url), "https://127.0.0.1:%u", s->port);
}

/* Put n indicators into s's 'shared' collection. */
static void put_indicators(struct side *s, size_t n, const char *modified)
{
    struct tq_buf text;
    struct tq_stix_batch *b = NULL;
    struct tq_stix_object *objs;
    struct tq_err err = {0};

    tq_buf_init(&text, 16u << 20);
    assert_int_equal(tq_buf_append_c(&text, "["), TQ_OK);
    for (size_t i = 0; i < n; i++) {
        char id[37];

        tq_uuid4(id);
        assert_int_equal(
            tq_buf_printf(&text,
                          "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
                          "\"indicator--%s\",\"created\":\"2026-01-01T00:00:00.000Z\","
                          "\"modified\":\"%s\",\"name\":\"%s %zu\",\"pattern_type\":\"stix\","
                          "\"pattern\":\"[ipv4-addr:value = '10.1.%zu.%zu']\",\"valid_from\":"
                          "\"2026-01-01T00:00:00Z\"}",
                          i ? "," : "", id, modified, s->name, i, i / 250, i % 250),
            TQ_OK);
    }
    assert_int_equal(tq_buf_append_c(&text, "]"), TQ_OK);
    if (tq_stix_parse_batch((struct tq_str){text.ptr, text.len}, &b, &err))
        fail_msg("parse: %s", err.msg);
    objs = tq_xcalloc(n, sizeof(*objs));
    for (size_t i = 0; i < n; i++)
        objs[i] = b->items[i].obj;
    if (tq_policy_put(tq_node_store(s->node), s->shared, objs, n, NULL, NULL, NULL, &err))
        fail_msg("put on %s: %s", s->name, err.msg);
    tq_free(objs);
    tq_stix_batch_free(b);
    tq_buf_cleanup(&text);
}

static tq_rc sync_from(struct side *me, const struct side *partner, struct tq_sync_stats *st,
                       struct tq_err *err)
{
    struct tq_sync_options o = fast;
    const char *cert, *key;

    o.audit = me->audit;
    o.log_signer = &me->log_signer;
    o.witness_signer = &me->witness_signer;
    tq_node_tls_paths(me->node, &cert, &key);
    memset(st, 0, sizeof(*st));
    return tq_sync_partner(tq_node_store(me->node), cert, key, partner->name, &o, st, err);
}

/* The log of partner (as registered on me): origin and keys. */
static void log_of(struct side *me, const struct side *partner, struct tq_witness_log *out)
{
    struct tq_partner p = {0};
    struct tq_err err = {0};

    assert_int_equal(tq_store_partner_get(tq_node_store(me->node), partner->name, &p, &err), TQ_OK);
    if (tq_witness_log_of(&p, out, &err))
        fail_msg("log of %s: %s", partner->name, err.msg);
    tq_partner_cleanup(&p);
}

struct kept {
    uint64_t size;
    char *note;
};

static bool find_kept(void *ud, uint64_t size, int64_t at_us, const char *note)
{
    struct kept *k = ud;

    (void)at_us;
    if (size == k->size)
        k->note = tq_xstrdup(note);
    return size > k->size;
}

/* The kept checkpoint of size on s carries a verified cosignature by key (and s's signature). */
static void assert_cosigned(struct side *s, uint64_t size, const struct tq_note_verifier *key)
{
    struct tq_note_verifier own;
    struct kept k = {.size = size};
    struct tq_note *note = NULL;
    struct tq_err err = {0};
    size_t by_key = 0;

    assert_int_equal(tq_store_audit_checkpoints(tq_node_store(s->node), size, find_kept, &k, &err),
                     TQ_OK);
    assert_non_null(k.note);
    assert_int_equal(tq_note_parse(tq_str_c(k.note), &note, &err), TQ_OK);
    if (tq_note_verify(note, key, 1, &err))
        fail_msg("cosignature on %s's checkpoint of %llu: %s", s->name, (unsigned long long)size,
                 err.msg);
    for (size_t i = 0; i < note->n_sigs; i++)
        if (note->sigs[i].verified)
            by_key++;
    assert_int_equal(by_key, 1); /* one line by the witness, an older one replaced */
    tq_note_signer_verifier(&s->log_signer, &own);
    assert_int_equal(tq_note_verify(note, &own, 1, &err), TQ_OK);
    tq_note_free(note);
    tq_free(k.note);
}

/* me's witness state of partner's log holds its checkpoint of size, cosigned by me. */
static void assert_witnessed(struct side *me, const struct side *partner, uint64_t size)
{
    struct tq_store_witness st;
    struct tq_witness_log wl;
    struct tq_note_verifier keys[2];
    struct tq_note *note = NULL;
    struct tq_err err = {0};

    log_of(me, partner, &wl);
    memset(&st, 0, sizeof(st));
    assert_int_equal(tq_store_witness_get(tq_node_store(me->node), wl.origin, &st, &err), TQ_OK);
    assert_int_equal(st.size, size);
    assert_string_equal(st.partner, partner->name);
    assert_non_null(st.note);
    keys[0] = wl.log_key;
    tq_note_signer_verifier(&me->witness_signer, &keys[1]);
    assert_int_equal(tq_note_open(tq_str_c(st.note), keys, 2, &note, &err), TQ_OK);
    assert_int_equal(note->n_verified, 2);
    tq_note_free(note);
    tq_store_witness_cleanup(&st);
}

static void sync_ok(struct side *me, struct side *partner, struct tq_sync_stats *st)
{
    struct tq_err err = {0};
    tq_rc rc = sync_from(me, partner, st, &err);

    if (rc)
        fail_msg("%s syncs %s: %s: %s", me->name, partner->name, tq_rc_name(rc), err.msg);
    assert_int_equal(st->alarms, 0);
    if (!st->witnessed)
        fail_msg("%s did not witness %s: %s", me->name, partner->name,
                 st->watch_warning ? st->watch_warning : "?");
    if (!st->cosigned)
        fail_msg("%s was not cosigned by %s: %s", me->name, partner->name,
                 st->ask_warning ? st->ask_warning : "?");
    assert_null(st->watch_warning);
    assert_null(st->ask_warning);
}

/* A client of side s for raw requests (its pinned certificate, no client certificate). */
static struct tq_client *client_of(const struct side *s)
{
    struct tq_client_options co = {0};
    struct tq_err err = {0};
    struct tq_client *c;
    char *pem = read_text(s->cert);

    co.base_url = s->url;
    co.ca_pem = pem;
    c = tq_client_new(&co, &err);
    tq_free(pem);
    if (!c)
        fail_msg("client: %s", err.msg);
    return c;
}

static long post(struct tq_client *c, const char *path, const char *body, size_t len,
                 struct tq_buf *out)
{
    struct tq_err err = {0};
    long status = 0;

    tq_buf_reset(out);
    if (tq_client_fetch(c, TQ_CLIENT_POST, path, body, len, "text/plain", 0, &status, out, &err))
        fail_msg("POST %s: %s", path, err.msg);
    return status;
}

/* Restart s with a new audit log over its store as it is now (the tree is rebuilt). */
static void restart(struct side *s)
{
    tq_server_stop(s->srv);
    s->srv = NULL;
    tq_audit_log_close(s->audit);
    s->audit = NULL;
    open_audit(s);
    start_server(s);
}

static void exec_sql(struct side *s, const char *sql)
{
    char path[256];
    sqlite3 *db = NULL;
    char *msg = NULL;

    snprintf(path, sizeof(path), "%s/store.db", s->home);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("sql on %s: %s", s->name, msg ? msg : "?");
    sqlite3_close(db);
}

/* The alarms s keeps about partner p: how many, and the last one's evidence checked. */
static size_t alarms_about(struct side *s, const char *p)
{
    struct tq_store_alarm *v = NULL;
    struct tq_err err = {0};
    size_t n = 0, found = 0;

    assert_int_equal(tq_store_alarm_list(tq_node_store(s->node), &v, &n, &err), TQ_OK);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].partner, p) != 0)
            continue;
        found++;
        assert_non_null(v[i].origin);
        assert_non_null(v[i].reason);
        assert_non_null(v[i].old_note); /* the checkpoint cosigned before */
        assert_non_null(v[i].new_note); /* the one offered now */
        assert_non_null(v[i].proof);    /* "old N" and the proof hashes */
        assert_memory_equal(v[i].proof, "old ", 4);
        assert_string_not_equal(v[i].old_note, v[i].new_note);
    }
    tq_store_alarm_list_free(v, n);
    return found;
}

/* ---- setup ------------------------------------------------------------------------------ */

static void open_side(struct side *s, const char *name)
{
    struct tq_node_init_opts o = {.title = name};
    struct tq_collection c = {0};
    struct tq_err err = {0};

    s->name = name;
    snprintf(s->home, sizeof(s->home), "%s/%s", w.dir, name);
    snprintf(s->cert, sizeof(s->cert), "%s/tls/cert.pem", s->home);
    if (tq_node_init(s->home, &o, &err) || tq_node_open(s->home, &s->node, &err))
        fail_msg("node %s: %s", name, err.msg);
    assert_int_equal(tq_store_collection_get(tq_node_store(s->node), "shared", &c, &err), TQ_OK);
    memcpy(s->shared, c.id, sizeof(s->shared));
    tq_collection_cleanup(&c);
    assert_int_equal(tq_node_log_signer(s->node, &s->log_signer, &err), TQ_OK);
    assert_int_equal(tq_node_witness_signer(s->node, &s->witness_signer, &err), TQ_OK);
    open_audit(s);
    start_server(s);
}

static void share_with(struct side *s, const struct side *other)
{
    struct tq_err err = {0};
    char principal[80];

    snprintf(principal, sizeof(principal), "partner:%s", other->name);
    assert_int_equal(
        tq_store_perm_set(tq_node_store(s->node), principal, s->shared, true, false, &err), TQ_OK);
    if (tq_policy_collection_default_set(tq_node_store(s->node), s->shared, TQ_TLP_GREEN, principal,
                                         &err))
        fail_msg("collection default: %s", err.msg);
}

static int setup(void **state)
{
    (void)state;
    tq_log_set_level(TQ_LOG_ERROR);
    memset(&w, 0, sizeof(w));
    snprintf(w.dir, sizeof(w.dir), "/tmp/tq-wsync-XXXXXX");
    assert_non_null(mkdtemp(w.dir));
    open_side(&w.a, "a");
    open_side(&w.b, "b");
    add_partner(&w.a, &w.b);
    add_partner(&w.b, &w.a);
    share_with(&w.a, &w.b);
    share_with(&w.b, &w.a);
    return 0;
}

static void close_side(struct side *s)
{
    tq_server_stop(s->srv);
    tq_audit_log_close(s->audit);
    tq_note_signer_cleanup(&s->log_signer);
    tq_note_signer_cleanup(&s->witness_signer);
    tq_node_close(s->node);
}

static int teardown(void **state)
{
    (void)state;
    close_side(&w.a);
    close_side(&w.b);
    nftw(w.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- the tiles reader alone ------------------------------------------------------------- */

struct fake {
    struct tq_merkle *tree;
    bool truncate; /* serve every tile one byte short */
    bool pad;      /* serve every tile one hash too long */
    unsigned calls;
};

static tq_rc fake_fetch(void *ud, enum tq_client_method method, const char *path,
                        struct tq_str body, const char *content_type, size_t max_bytes,
                        long *status, struct tq_buf *out, struct tq_err *err)
{
    struct fake *f = ud;
    struct tq__http_log_req lr;
    static const uint8_t zero[32];
    tq_rc rc;

    (void)body;
    (void)content_type;
    (void)max_bytes;
    f->calls++;
    assert_int_equal(method, TQ_CLIENT_GET);
    assert_memory_equal(path, "/log/", 5);
    if (!tq__http_log_path(path + 5, &lr) || lr.kind != TQ__LOG_TILE) {
        *status = 404;
        return TQ_OK;
    }
    rc = tq_merkle_tile(f->tree, lr.level, lr.index, lr.width, out, err);
    if (rc == TQ_ENOTFOUND) {
        *status = 404;
        return TQ_OK;
    }
    if (rc)
        return rc;
    if (f->truncate)
        out->ptr[--out->len] = '\0';
    if (f->pad)
        assert_int_equal(tq_buf_append(out, zero, sizeof(zero)), TQ_OK);
    *status = 200;
    return TQ_OK;
}

static void tiles_reader_matches_tree(void **state)
{
    static const uint64_t sizes[] = {1,   2,   3,    7,    255,   256,   257,   300,
                                     511, 512, 1000, 4096, 65535, 65536, 65537, 70000};
    struct fake f = {0};
    struct tq_err err = {0};
    uint32_t i;

    (void)state;
    f.tree = tq_merkle_new(0);
    for (i = 0; i < 70000; i++)
        assert_int_equal(tq_merkle_append_data(f.tree, &i, sizeof(i), NULL, &err), TQ_OK);
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        uint64_t size2 = sizes[s];
        struct tq__sync_tiles t;
        struct tq_merkle_source src;
        uint8_t want[32], got[32];
        unsigned calls;

        tq__sync_tiles_init(&t, size2, fake_fetch, &f);
        src = tq__sync_tiles_source(&t);
        assert_int_equal(tq_merkle_root(f.tree, size2, want, &err), TQ_OK);
        assert_int_equal(tq_merkle_source_root(&src, size2, got, &err), TQ_OK);
        assert_memory_equal(want, got, 32);
        for (size_t k = 0; k <= s; k++) {
            struct tq_merkle_proof pw, pg;

            assert_int_equal(tq_merkle_consistency(f.tree, sizes[k], size2, &pw, &err), TQ_OK);
            if (tq_merkle_source_consistency(&src, sizes[k], size2, &pg, &err))
                fail_msg("consistency %llu -> %llu: %s", (unsigned long long)sizes[k],
                         (unsigned long long)size2, err.msg);
            assert_int_equal(pw.n, pg.n);
            assert_memory_equal(pw.hash, pg.hash, pw.n * 32);
        }
        /* Everything is cached: the same work again fetches nothing. */
        calls = f.calls;
        assert_int_equal(tq_merkle_source_root(&src, size2, got, &err), TQ_OK);
        assert_int_equal(f.calls, calls);
        assert_int_equal(t.fetched, t.n);
        tq__sync_tiles_cleanup(&t);
    }

    /* A truncated tile, or one too long, is refused with the tile named. */
    for (int mode = 0; mode < 2; mode++) {
        struct tq__sync_tiles t;
        struct tq_merkle_source src;
        uint8_t got[32];

        f.truncate = mode == 0;
        f.pad = mode == 1;
        tq__sync_tiles_init(&t, 300, fake_fetch, &f);
        src = tq__sync_tiles_source(&t);
        assert_int_equal(tq_merkle_source_root(&src, 300, got, &err), TQ_EINTEGRITY);
        assert_non_null(strstr(err.msg, "/log/tile/"));
        assert_non_null(strstr(err.msg, "refused"));
        assert_int_equal(t.n, 0);
        tq__sync_tiles_cleanup(&t);
    }
    tq_merkle_free(f.tree);
}

/* ---- the add-checkpoint endpoint -------------------------------------------------------- */

static void add_checkpoint_statuses(void **state)
{
    struct tq_client *c = client_of(&w.a);
    struct tq_note_signer stranger;
    struct tq_checkpoint cp = {0};
    struct tq_witness_log wl;
    struct tq_note *note = NULL;
    struct tq_buf out, req, text;
    struct tq_merkle_proof empty = {0};
    struct tq_err err = {0};
    char *b_note = NULL, *big;
    long status = 0;

    (void)state;
    tq_buf_init(&out, 1u << 20);
    tq_buf_init(&req, TQ_WITNESS_BODY_MAX);
    tq_buf_init(&text, 4096);

    /* The raw call itself: a bad path is refused before any request, a cap is enforced. */
    assert_int_equal(
        tq_client_fetch(c, TQ_CLIENT_GET, "log/checkpoint", NULL, 0, NULL, 0, &status, &out, &err),
        TQ_EINVAL);
    assert_int_equal(tq_client_fetch(c, TQ_CLIENT_GET, "/log/checkpoint", NULL, 0, NULL, 16,
                                     &status, &out, &err),
                     TQ_ETOOBIG);
    assert_int_equal(out.len, 0);
    assert_int_equal(
        tq_client_fetch(c, TQ_CLIENT_GET, "/log/checkpoint", NULL, 0, NULL, 0, &status, &out, &err),
        TQ_OK);
    assert_int_equal(status, 200);
    assert_memory_equal(out.ptr, "tansiq/", 7);
    tq_buf_reset(&out);

    /* 405 for anything but POST, and for POST to the rest of the log. */
    assert_int_equal(tq_client_fetch(c, TQ_CLIENT_GET, "/log/add-checkpoint", NULL, 0, NULL, 0,
                                     &status, &out, &err),
                     TQ_OK);
    assert_int_equal(status, 405);
    assert_int_equal(post(c, "/log/checkpoint", "x", 1, &out), 405);

    /* 400 for a body that is not a request. */
    assert_int_equal(post(c, "/log/add-checkpoint", "hello\n", 6, &out), 400);

    /* 404 for a well-formed, signed checkpoint of a log that is no partner's. */
    assert_int_equal(tq_note_signer_generate(tq_str_c("example.com/stranger"), TQ_NOTE_ALG_ED25519,
                                             &stranger, &err),
                     TQ_OK);
    cp.origin = tq_str_c("example.com/stranger");
    cp.size = 0;
    tq_merkle_empty_root(cp.root);
    assert_int_equal(tq_checkpoint_format(&cp, &text, &err), TQ_OK);
    assert_int_equal(tq_note_new((struct tq_str){text.ptr, text.len}, &note, &err), TQ_OK);
    assert_int_equal(tq_note_sign(note, &stranger, &err), TQ_OK);
    tq_buf_reset(&text);
    assert_int_equal(tq_note_format(note, &text, &err), TQ_OK);
    tq_note_free(note);
    note = NULL;
    assert_int_equal(
        tq_witness_request_format(0, &empty, (struct tq_str){text.ptr, text.len}, &req, &err),
        TQ_OK);
    assert_int_equal(post(c, "/log/add-checkpoint", req.ptr, req.len, &out), 404);
    tq_note_signer_cleanup(&stranger);

    /* 413 beyond TQ_WITNESS_BODY_MAX. */
    big = tq_xcalloc(1, TQ_WITNESS_BODY_MAX + 2);
    memset(big, 'a', TQ_WITNESS_BODY_MAX + 1);
    assert_int_equal(post(c, "/log/add-checkpoint", big, TQ_WITNESS_BODY_MAX + 1, &out), 413);
    tq_free(big);

    /* 200 for b's checkpoint from size 0: the body is a's cosignature line, which verifies. */
    put_indicators(&w.b, 5, "2026-02-01T00:00:00.000Z");
    assert_int_equal(tq_audit_checkpoint_sign(w.b.audit, &w.b.log_signer, &b_note, &err), TQ_OK);
    tq_buf_reset(&req);
    assert_int_equal(tq_witness_request_format(0, &empty, tq_str_c(b_note), &req, &err), TQ_OK);
    assert_int_equal(post(c, "/log/add-checkpoint", req.ptr, req.len, &out), 200);
    assert_memory_equal(out.ptr, "\xe2\x80\x94 ", 4);
    log_of(&w.b, &w.a, &wl);
    assert_int_equal(tq_note_parse(tq_str_c(b_note), &note, &err), TQ_OK);
    assert_int_equal(tq_note_add_sig_lines(note, (struct tq_str){out.ptr, out.len}, &err), TQ_OK);
    assert_int_equal(tq_note_verify(note, &wl.cosig_key, 1, &err), TQ_OK);
    tq_note_free(note);
    note = NULL;
    /* The same request again: the state is no longer 0, so 409 with the size cosigned. */
    assert_true(tq_audit_size(w.b.audit) > 0);
    assert_int_equal(post(c, "/log/add-checkpoint", req.ptr, req.len, &out), 409);
    {
        char want[32];

        snprintf(want, sizeof(want), "%llu\n", (unsigned long long)tq_audit_size(w.b.audit));
        assert_int_equal(out.len, strlen(want));
        assert_memory_equal(out.ptr, want, out.len);
    }
    assert_witnessed(&w.a, &w.b, tq_audit_size(w.b.audit));

    tq_free(b_note);
    tq_buf_cleanup(&out);
    tq_buf_cleanup(&req);
    tq_buf_cleanup(&text);
    tq_client_free(c);
}

/* ---- syncs with witnessing -------------------------------------------------------------- */

static void sync_both_ways_cosigns_both(void **state)
{
    struct tq_sync_stats sb, sa;
    struct tq_witness_log a_by_b, b_by_a;

    (void)state;
    put_indicators(&w.a, 40, "2026-02-02T00:00:00.000Z");
    put_indicators(&w.b, 30, "2026-02-02T00:00:00.000Z");

    sleep(1); /* a server signs a fresh checkpoint for /log/ at most once a second */
    sync_ok(&w.b, &w.a, &sb); /* b watches a, pulls, asks a to cosign */
    assert_int_equal(sb.n_colls, 1);
    assert_int_equal(sb.colls[0].stored, 40);
    sync_ok(&w.a, &w.b, &sa); /* a watches b, pulls, asks b to cosign */
    assert_int_equal(sa.n_colls, 1);
    assert_int_equal(sa.colls[0].stored, 35);
    assert_true(sb.witnessed_size >= 40);
    assert_true(sa.witnessed_size >= sb.cosigned_size);

    /* Each node holds the other's checkpoint, cosigned, as its witness: b the one a asked it
     * to cosign last, a the one it watched last. */
    assert_witnessed(&w.b, &w.a, sa.cosigned_size);
    assert_witnessed(&w.a, &w.b, sa.witnessed_size);
    /* Each one's kept checkpoint carries the other's verified cosignature. */
    log_of(&w.b, &w.a, &a_by_b);
    log_of(&w.a, &w.b, &b_by_a);
    assert_cosigned(&w.b, sb.cosigned_size, &a_by_b.cosig_key);
    assert_cosigned(&w.a, sa.cosigned_size, &b_by_a.cosig_key);
    /* b's checkpoint covers what it stored from a: 40 stored leaves more than before. */
    assert_true(sb.cosigned_size >= 5 + 40);

    w.b_state_of_a = sa.cosigned_size;
    w.a_state_of_b = sa.witnessed_size;
    w.b_cosigned_by_a = sb.cosigned_size;
    w.a_cosigned_by_b = sa.cosigned_size;
    tq_sync_stats_cleanup(&sb);
    tq_sync_stats_cleanup(&sa);
}

static void second_sync_advances_both(void **state)
{
    struct tq_sync_stats sb, sa;
    struct tq_witness_log a_by_b, b_by_a;

    (void)state;
    put_indicators(&w.a, 300, "2026-02-03T00:00:00.000Z"); /* a full tile and more */
    put_indicators(&w.b, 20, "2026-02-03T00:00:00.000Z");
    sleep(1);
    sync_ok(&w.b, &w.a, &sb);
    sync_ok(&w.a, &w.b, &sa);
    assert_true(sb.witnessed_size >= w.b_state_of_a + 300);
    assert_true(sa.witnessed_size >= w.a_state_of_b + 20);
    assert_true(sb.cosigned_size > w.b_cosigned_by_a);
    assert_true(sa.cosigned_size > w.a_cosigned_by_b);
    assert_witnessed(&w.b, &w.a, sa.cosigned_size);
    assert_witnessed(&w.a, &w.b, sa.witnessed_size);
    log_of(&w.b, &w.a, &a_by_b);
    log_of(&w.a, &w.b, &b_by_a);
    assert_cosigned(&w.b, sb.cosigned_size, &a_by_b.cosig_key);
    assert_cosigned(&w.a, sa.cosigned_size, &b_by_a.cosig_key);

    /* Nothing new: a third sync is cosigned again, one cosignature line per witness. */
    w.a_state_of_b = sa.witnessed_size;
    tq_sync_stats_cleanup(&sb);
    sync_ok(&w.b, &w.a, &sb);
    assert_cosigned(&w.b, sb.cosigned_size, &a_by_b.cosig_key);
    w.b_state_of_a = sb.witnessed_size;
    tq_sync_stats_cleanup(&sb);
    tq_sync_stats_cleanup(&sa);
}

/* ---- receipts: the openings of the entries naming the syncing node ---------------------- */

struct count {
    const char *partner; /* receipts must be from this partner */
    size_t n;
    uint64_t below;
    struct tq_store *sender; /* the sender's store, to compare leaf hashes with */
};

static bool count_leaf(void *ud, const struct tq_store_audit_entry *e)
{
    struct count *c = ud;

    assert_true(e->idx < c->below);
    c->n++;
    return true;
}

static bool check_receipt(void *ud, const struct tq_store_receipt *r)
{
    struct count *c = ud;
    struct tq_store_audit_entry e;
    struct tq_bytes parts[2] = {{r->salt, 32}, {r->record, strlen(r->record)}};
    uint8_t commitment[32], leaf[32];
    struct tq_err err = {0};

    assert_string_equal(r->partner, c->partner);
    assert_true(r->idx < r->checkpoint_size);
    tq_sha256_parts(parts, 2, commitment);
    assert_int_equal(tq_merkle_leaf_hash(commitment, 32, leaf, &err), TQ_OK);
    assert_memory_equal(leaf, r->leaf_hash, 32);
    memset(&e, 0, sizeof(e));
    assert_int_equal(tq_store_audit_entry(c->sender, r->idx, &e, &err), TQ_OK);
    assert_memory_equal(e.leaf_hash, leaf, 32);
    assert_string_equal(e.partner, "b"); /* only entries naming b */
    assert_string_equal(e.kind, r->kind);
    assert_non_null(strstr(r->record, "\"partner\":\"b\""));
    tq_store_audit_entry_cleanup(&e);
    c->n++;
    return true;
}

/* A third partner c on a, in a group with b that becomes the default audience of 'shared'. */
static void add_third_partner(void)
{
    struct side c = {0};
    struct tq_node_init_opts o = {.title = "c"};
    struct tq_store *sa = tq_node_store(w.a.node);
    struct tq_err err = {0};

    c.name = "c";
    snprintf(c.home, sizeof(c.home), "%s/c", w.dir);
    snprintf(c.url, sizeof(c.url), "https://127.0.0.1:9");
    if (tq_node_init(c.home, &o, &err) || tq_node_open(c.home, &c.node, &err))
        fail_msg("node c: %s", err.msg);
    add_partner(&w.a, &c);
    tq_node_close(c.node);
    /* A release needs the grant as well as the policy. */
    assert_int_equal(tq_policy_partner_grant(sa, "c", w.a.shared, true, &err), TQ_OK);
    assert_int_equal(tq_policy_group_add(sa, "bc", &err), TQ_OK);
    assert_int_equal(tq_policy_group_member_set(sa, "bc", "b", true, &err), TQ_OK);
    assert_int_equal(tq_policy_group_member_set(sa, "bc", "c", true, &err), TQ_OK);
    if (tq_policy_collection_default_set(sa, w.a.shared, TQ_TLP_GREEN, "group:bc", &err))
        fail_msg("collection default: %s", err.msg);
}

static long get_openings(struct tq_client *c, const char *path, struct tq_buf *out)
{
    struct tq_err err = {0};
    long status = 0;

    tq_buf_reset(out);
    if (tq_client_fetch(c, TQ_CLIENT_GET, path, NULL, 0, NULL, 0, &status, out, &err))
        fail_msg("GET %s: %s", path, err.msg);
    return status;
}

static void receipts_match_released_leaves(void **state)
{
    struct tq_store *sa = tq_node_store(w.a.node), *sb = tq_node_store(w.b.node);
    struct count leaves = {0}, third = {0}, receipts = {.partner = "a", .sender = sa};
    struct tq_sync_stats sb_st;
    struct tq_err err = {0};

    (void)state;
    add_third_partner();
    /* Released to b and c; more than a page of openings (1000) names b now. */
    put_indicators(&w.a, 700, "2026-02-04T00:00:00.000Z");
    sleep(1);
    sync_ok(&w.b, &w.a, &sb_st);
    assert_null(sb_st.receipts_warning);
    assert_int_equal(sb_st.receipts_rc, TQ_OK);
    assert_true(sb_st.receipts > 0);

    leaves.below = sb_st.witnessed_size;
    assert_int_equal(
        tq_store_audit_partner_leaves(sa, "b", 0, leaves.below, count_leaf, &leaves, &err), TQ_OK);
    third.below = sb_st.witnessed_size;
    assert_int_equal(
        tq_store_audit_partner_leaves(sa, "c", 0, third.below, count_leaf, &third, &err), TQ_OK);
    assert_true(third.n >= 700 + 40 + 300); /* c's releases exist, and none reach b */
    assert_int_equal(tq_store_receipts_find(sb, "a", check_receipt, &receipts, &err), TQ_OK);
    assert_int_equal(receipts.n, leaves.n);
    receipts.n = 0;
    assert_int_equal(tq_store_receipts_find(sb, NULL, check_receipt, &receipts, &err), TQ_OK);
    assert_int_equal(receipts.n, leaves.n);
    tq_sync_stats_cleanup(&sb_st);

    /* Nothing new below the next checkpoint but b's reads: the cursor resumes, no duplicates. */
    sleep(1);
    sync_ok(&w.b, &w.a, &sb_st);
    assert_null(sb_st.receipts_warning);
    leaves.n = 0;
    leaves.below = sb_st.witnessed_size;
    assert_int_equal(
        tq_store_audit_partner_leaves(sa, "b", 0, leaves.below, count_leaf, &leaves, &err), TQ_OK);
    receipts.n = 0;
    assert_int_equal(tq_store_receipts_find(sb, "a", check_receipt, &receipts, &err), TQ_OK);
    assert_int_equal(receipts.n, leaves.n);
    w.b_state_of_a = sb_st.witnessed_size;
    tq_sync_stats_cleanup(&sb_st);
}

static void openings_only_for_partners(void **state)
{
    struct tq_client_options co = {0};
    struct tq_err err = {0};
    struct tq_client *c;
    struct tq_buf out;
    char *pem = read_text(w.a.cert), *hash = NULL;
    const char *cert, *key;
    long status;

    (void)state;
    tq_buf_init(&out, 64u << 20);
    /* No client certificate, no credentials. */
    c = client_of(&w.a);
    assert_int_equal(get_openings(c, "/log/openings?from=0", &out), 403);
    assert_int_equal(get_openings(c, "/log/openings", &out), 403);
    /* The rest of /log/ stays public. */
    assert_int_equal(get_openings(c, "/log/checkpoint", &out), 200);
    tq_client_free(c);

    /* A user with a password is not a partner. */
    assert_int_equal(tq_auth_password_hash("secret-pass", &hash, &err), TQ_OK);
    assert_int_equal(tq_store_user_put(tq_node_store(w.a.node), "alice", hash, &err), TQ_OK);
    tq_free(hash);
    co.base_url = w.a.url;
    co.ca_pem = pem;
    co.user = "alice";
    co.password = "secret-pass";
    c = tq_client_new(&co, &err);
    assert_non_null(c);
    assert_int_equal(get_openings(c, "/log/openings?from=0", &out), 403);
    tq_client_free(c);

    /* b, by its pinned certificate: its own entries only, within the latest checkpoint. */
    tq_node_tls_paths(w.b.node, &cert, &key);
    memset(&co, 0, sizeof(co));
    co.base_url = w.a.url;
    co.ca_pem = pem;
    co.client_cert_file = cert;
    co.client_key_file = key;
    c = tq_client_new(&co, &err);
    assert_non_null(c);
    assert_int_equal(get_openings(c, "/log/openings?from=x", &out), 400);
    assert_int_equal(get_openings(c, "/log/openings?from=-1", &out), 400);
    status = get_openings(c, "/log/openings?from=0", &out);
    assert_int_equal(status, 200);
    assert_int_equal(tq_buf_append_c(&out, ""), TQ_OK);
    assert_non_null(strstr(out.ptr, "\"size\":"));
    assert_non_null(strstr(out.ptr, "\"next\":"));             /* more than a page names b */
    assert_null(strstr(out.ptr, "\\\"partner\\\":\\\"c\\\"")); /* never c's */
    assert_non_null(strstr(out.ptr, "\\\"partner\\\":\\\"b\\\""));
    tq_client_free(c);
    tq_free(pem);
    tq_buf_cleanup(&out);
}

/* A fetch over a real client that alters the first record of every page of openings. */
static tq_rc altering_fetch(void *ud, enum tq_client_method method, const char *path,
                            struct tq_str body, const char *content_type, size_t max_bytes,
                            long *status, struct tq_buf *out, struct tq_err *err)
{
    unsigned *altered = ((void **)ud)[1];
    tq_rc rc = tq_client_fetch(((void **)ud)[0], method, path, body.ptr, body.len, content_type,
                               max_bytes, status, out, err);
    char *v;

    if (rc == TQ_OK && strncmp(path, "/log/openings", 13) == 0 && out->ptr) {
        v = strstr(out->ptr, "\\\"v\\\":1");
        if (v) {
            v[6] = '2';
            (*altered)++;
        }
    }
    return rc;
}

static void tampered_opening_is_a_warning(void **state)
{
    struct tq_store *sa = tq_node_store(w.a.node), *sb = tq_node_store(w.b.node);
    struct count leaves = {0}, receipts = {.partner = "a", .sender = sa};
    struct tq_client_options co = {0};
    struct tq_sync_stats st = {0};
    struct tq_partner p = {0};
    struct tq__sync_witness wit;
    struct tq_err err = {0};
    const char *cert, *key;
    char *pem = read_text(w.a.cert), *before = NULL, *after = NULL;
    unsigned altered = 0;
    void *ud[2];

    (void)state;
    put_indicators(&w.a, 5, "2026-02-05T00:00:00.000Z");
    tq_node_tls_paths(w.b.node, &cert, &key);
    co.base_url = w.a.url;
    co.ca_pem = pem;
    co.client_cert_file = cert;
    co.client_key_file = key;
    ud[0] = tq_client_new(&co, &err);
    ud[1] = &altered;
    assert_non_null(ud[0]);
    assert_int_equal(tq_store_partner_get(sb, "a", &p, &err), TQ_OK);
    assert_int_equal(tq_store_meta_get(sb, "audit.receipts.a", &before, &err), TQ_OK);
    wit = (struct tq__sync_witness){.store = sb,
                                    .partner = &p,
                                    .audit = w.b.audit,
                                    .log_signer = &w.b.log_signer,
                                    .witness_signer = &w.b.witness_signer,
                                    .fetch = altering_fetch,
                                    .fetch_ud = ud,
                                    .stats = &st};
    sleep(1);
    assert_int_equal(tq__sync_watch(&wit, &err), TQ_OK); /* a warning, not an alarm */
    assert_true(st.witnessed);
    assert_int_equal(st.alarms, 0);
    assert_int_equal(altered, 1);
    assert_int_equal(st.receipts, 0);
    assert_int_equal(st.receipts_rc, TQ_EINTEGRITY);
    assert_non_null(st.receipts_warning);
    assert_non_null(strstr(st.receipts_warning, "does not match leaf"));
    assert_int_equal(tq_store_meta_get(sb, "audit.receipts.a", &after, &err), TQ_OK);
    assert_string_equal(before, after); /* the cursor stays */
    w.b_state_of_a = st.witnessed_size;
    tq_sync_stats_cleanup(&st);
    tq_partner_cleanup(&p);
    tq_client_free(ud[0]);
    tq_free(pem);
    tq_free(before);
    tq_free(after);

    /* The next honest sync fetches them. */
    sync_ok(&w.b, &w.a, &st);
    assert_null(st.receipts_warning);
    assert_true(st.receipts >= 5);
    leaves.below = st.witnessed_size;
    assert_int_equal(
        tq_store_audit_partner_leaves(sa, "b", 0, leaves.below, count_leaf, &leaves, &err), TQ_OK);
    assert_int_equal(tq_store_receipts_find(sb, "a", check_receipt, &receipts, &err), TQ_OK);
    assert_int_equal(receipts.n, leaves.n);
    w.b_state_of_a = st.witnessed_size;
    tq_sync_stats_cleanup(&st);
}

/* A fetch over a real client that truncates every tile it passes on. */
struct cutter {
    struct tq_client *c;
    unsigned cut;
};

static tq_rc cutting_fetch(void *ud, enum tq_client_method method, const char *path,
                           struct tq_str body, const char *content_type, size_t max_bytes,
                           long *status, struct tq_buf *out, struct tq_err *err)
{
    struct cutter *k = ud;
    tq_rc rc = tq_client_fetch(k->c, method, path, body.ptr, body.len, content_type, max_bytes,
                               status, out, err);

    if (rc == TQ_OK && strncmp(path, "/log/tile/", 10) == 0 && out->len > 0) {
        out->ptr[--out->len] = '\0';
        k->cut++;
    }
    return rc;
}

static void truncated_tile_is_refused(void **state)
{
    struct cutter k = {.c = client_of(&w.a)};
    struct tq_sync_stats st = {0};
    struct tq_partner p = {0};
    struct tq__sync_witness wit;
    struct tq_err err = {0};

    (void)state;
    put_indicators(&w.a, 10, "2026-02-04T00:00:00.000Z");
    assert_int_equal(tq_store_partner_get(tq_node_store(w.b.node), "a", &p, &err), TQ_OK);
    wit = (struct tq__sync_witness){.store = tq_node_store(w.b.node),
                                    .partner = &p,
                                    .audit = w.b.audit,
                                    .log_signer = &w.b.log_signer,
                                    .witness_signer = &w.b.witness_signer,
                                    .fetch = cutting_fetch,
                                    .fetch_ud = &k,
                                    .stats = &st};
    sleep(1); /* a's server signs a fresh checkpoint at most once a second */
    assert_int_equal(tq__sync_watch(&wit, &err), TQ_OK);
    assert_true(k.cut > 0);
    assert_false(st.witnessed);
    assert_int_equal(st.alarms, 0);
    assert_non_null(st.watch_warning);
    assert_non_null(strstr(st.watch_warning, "/log/tile/"));
    assert_non_null(strstr(st.watch_warning, "refused"));
    assert_int_equal(alarms_about(&w.b, "a"), 0);
    /* The state did not move: the next honest sync proves from where it was. */
    assert_witnessed(&w.b, &w.a, w.b_state_of_a);
    tq_sync_stats_cleanup(&st);
    tq_partner_cleanup(&p);
    tq_client_free(k.c);

    sync_ok(&w.b, &w.a, &st);
    assert_true(st.witnessed_size > w.b_state_of_a);
    w.b_state_of_a = st.witnessed_size;
    tq_sync_stats_cleanup(&st);
}

static void rewritten_leaf_raises_alarm(void **state)
{
    struct tq_sync_stats st;
    struct tq_err err = {0};
    char sql[512];
    tq_rc rc;

    (void)state;
    /* a rewrites leaf 3 (its commitment, and the leaf hash that follows from it) and forgets
     * its checkpoints, so that it signs the rewritten tree as if nothing happened. */
    snprintf(sql, sizeof(sql),
             "UPDATE audit_leaves SET commitment = randomblob(32) WHERE idx = 3;"
             "UPDATE audit_leaves SET leaf_hash = randomblob(32) WHERE idx = 3;"
             "DELETE FROM audit_checkpoints;"
             "DELETE FROM meta WHERE k = 'audit.checkpoint';");
    exec_sql(&w.a, sql);
    restart(&w.a);
    put_indicators(&w.a, 7, "2026-02-05T00:00:00.000Z");

    rc = sync_from(&w.b, &w.a, &st, &err);
    assert_int_equal(rc, TQ_EINTEGRITY);
    assert_memory_equal(err.msg, "ALARM:", 6);
    assert_int_equal(st.alarms, 1);
    assert_int_equal(st.n_colls, 0); /* nothing pulled from a log that rewrote its history */
    assert_false(st.witnessed);
    assert_int_equal(alarms_about(&w.b, "a"), 1);
    /* The state keeps the checkpoint cosigned before. */
    assert_witnessed(&w.b, &w.a, w.b_state_of_a);
    tq_sync_stats_cleanup(&st);

    /* And again on the next sync: the log stays caught. */
    rc = sync_from(&w.b, &w.a, &st, &err);
    assert_int_equal(rc, TQ_EINTEGRITY);
    assert_int_equal(st.alarms, 1);
    tq_sync_stats_cleanup(&st);
}

static void dropped_leaf_raises_alarm(void **state)
{
    struct tq_sync_stats st;
    struct tq_err err = {0};
    uint64_t witnessed;
    size_t before;
    tq_rc rc;

    (void)state;
    /* a witnesses b's log as it is now (b's last sync stored a's objects on b). a's own log
     * was rewritten in the case before: b, as its witness, refuses to cosign it and keeps one
     * more alarm, while a's sync itself goes on (a warning, not a failure). */
    sleep(1);
    before = alarms_about(&w.b, "a");
    rc = sync_from(&w.a, &w.b, &st, &err);
    if (rc)
        fail_msg("a syncs b: %s", err.msg);
    assert_true(st.witnessed);
    witnessed = st.witnessed_size;
    assert_witnessed(&w.a, &w.b, witnessed);
    assert_false(st.cosigned);
    assert_non_null(st.ask_warning);
    assert_non_null(strstr(st.ask_warning, "422"));
    assert_int_equal(alarms_about(&w.b, "a"), before + 1);
    tq_sync_stats_cleanup(&st);

    /* b drops leaf 2, renumbers the ones after it and signs the shorter log afresh. */
    exec_sql(&w.b, "DELETE FROM audit_leaves WHERE idx = 2;"
                   "UPDATE audit_leaves SET idx = -idx - 1 WHERE idx > 2;"
                   "UPDATE audit_leaves SET idx = -idx - 2 WHERE idx < 0;"
                   "DELETE FROM audit_checkpoints;"
                   "DELETE FROM meta WHERE k = 'audit.checkpoint';");
    restart(&w.b);
    assert_true(tq_audit_size(w.b.audit) < witnessed);

    rc = sync_from(&w.a, &w.b, &st, &err);
    assert_int_equal(rc, TQ_EINTEGRITY);
    assert_memory_equal(err.msg, "ALARM:", 6);
    assert_int_equal(st.alarms, 1);
    assert_int_equal(st.n_colls, 0);
    assert_int_equal(alarms_about(&w.a, "b"), 1);
    assert_witnessed(&w.a, &w.b, witnessed);
    tq_sync_stats_cleanup(&st);

    /* Dropped, then grown past the size cosigned: the proof from the tiles fails. */
    put_indicators(&w.b, 20, "2026-02-06T00:00:00.000Z");
    assert_int_equal(tq_audit_sync(w.b.audit, &err), TQ_OK);
    assert_true(tq_audit_size(w.b.audit) > witnessed);
    sleep(1);
    rc = sync_from(&w.a, &w.b, &st, &err);
    assert_int_equal(rc, TQ_EINTEGRITY);
    assert_memory_equal(err.msg, "ALARM:", 6);
    assert_int_equal(alarms_about(&w.a, "b"), 2);
    tq_sync_stats_cleanup(&st);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiles_reader_matches_tree),
        cmocka_unit_test(add_checkpoint_statuses),
        cmocka_unit_test(sync_both_ways_cosigns_both),
        cmocka_unit_test(second_sync_advances_both),
        cmocka_unit_test(receipts_match_released_leaves),
        cmocka_unit_test(openings_only_for_partners),
        cmocka_unit_test(tampered_opening_is_a_warning),
        cmocka_unit_test(truncated_tile_is_refused),
        cmocka_unit_test(rewritten_leaf_raises_alarm),
        cmocka_unit_test(dropped_leaf_raises_alarm),
    };

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("witness_sync", tests, setup, teardown);
}
