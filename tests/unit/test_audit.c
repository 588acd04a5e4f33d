/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the audit log: leaves written by the store with the events they record (and
 * never without them), the tree rebuilt at open, signed and consistent checkpoints, batched
 * reads, tiles, checkpoints signed by another process on the same store served with their tiles,
 * and a log that still verifies after kill -9 in the middle of puts.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "tansiq/audit.h"
#include "tansiq/stix.h"
#include "tansiq/store.h"
#include "fixture.h"

#define COLL_ID "11111111-2222-4333-8444-555555555555"

struct fixture {
    char dir[64];
    char path[96];
    struct tq_store *store;
};

static void add_partner(struct tq_store *s, const char *name)
{
    struct tq_partner p = {0};
    struct tq_err err = {0};

    snprintf(p.name, sizeof(p.name), "%s", name);
    p.added_us = 1;
    p.cert_sha256[0] = (uint8_t)name[0];
    p.cert_sha256[1] = (uint8_t)name[1];
    if (tq_store_partner_put(s, &p, &err))
        fail_msg("partner put: %s", err.msg);
}

static void store_setup(struct tq_store *s)
{
    struct tq_collection c = {0};
    struct tq_err err = {0};

    snprintf(c.id, sizeof(c.id), "%s", COLL_ID);
    c.title = "audit";
    if (tq_store_collection_add(s, &c, &err))
        fail_msg("collection add: %s", err.msg);
    add_partner(s, "alpha");
    add_partner(s, "bravo");
}

static int setup(void **state)
{
    struct fixture *f = tq_xcalloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/tq-audit-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
    f->store = fixture_store_open(f->path);
    store_setup(f->store);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tq_store_close(f->store);
    tmpdir_remove(f->dir);
    tq_free(f);
    return 0;
}

static tq_rc decide_fail(void *ud, const struct tq_store_release_view *view,
                         const struct tq_store_facts *facts, bool *released)
{
    (void)ud;
    (void)view;
    (void)facts;
    (void)released;
    return TQ_EINVAL;
}

static tq_rc put_n(struct tq_store *s, unsigned first, unsigned n, int64_t version_us,
                   tq_store_decide_cb decide, void *ud)
{
    struct tq_stix_object *o = tq_xcalloc(n, sizeof(*o));
    struct tq_err err = {0};
    unsigned i;
    tq_rc rc;

    for (i = 0; i < n; i++)
        fixture_indicator(&o[i], first + i, version_us);
    rc = tq_store_put_ex(s, COLL_ID, o, NULL, n, decide, ud, NULL, NULL, &err);
    for (i = 0; i < n; i++)
        tq_free(o[i].json);
    tq_free(o);
    return rc;
}

static uint64_t audit_size(struct tq_store *s)
{
    struct tq_err err = {0};
    uint64_t n = 0;

    assert_int_equal(tq_store_audit_size(s, &n, &err), TQ_OK);
    return n;
}

/* The root recomputed from the table alone: every opening checked, leaf hashes recomputed. */
static void table_root(struct tq_store *s, uint64_t size, uint8_t root[32])
{
    struct tq_merkle *m = tq_merkle_new(0);
    struct tq_store_audit_entry e;
    struct tq_err err = {0};
    uint8_t c[32], lh[32];
    crypto_hash_sha256_state h;
    uint64_t i;

    for (i = 0; i < size; i++) {
        assert_int_equal(tq_store_audit_entry(s, i, &e, &err), TQ_OK);
        crypto_hash_sha256_init(&h);
        crypto_hash_sha256_update(&h, e.salt, 32);
        crypto_hash_sha256_update(&h, (const uint8_t *)e.record, strlen(e.record));
        crypto_hash_sha256_final(&h, c);
        assert_memory_equal(c, e.commitment, 32);
        assert_int_equal(tq_merkle_leaf_hash(c, 32, lh, &err), TQ_OK);
        assert_memory_equal(lh, e.leaf_hash, 32);
        assert_int_equal(tq_merkle_append(m, lh, &err), TQ_OK);
        tq_store_audit_entry_cleanup(&e);
    }
    assert_int_equal(tq_merkle_root(m, size, root, &err), TQ_OK);
    tq_merkle_free(m);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void leaves_with_puts_and_releases(void **state)
{
    struct fixture *f = *state;
    struct tq_store_audit_entry e;
    struct tq_stix_object o;
    struct tq_err err = {0};
    uint8_t sha[32];
    char hex[65], want[128];
    size_t i, stored = 0, released = 0;
    uint64_t n, k;

    assert_int_equal(audit_size(f->store), 0);
    /* 3 new versions released to alpha only: 3 stored + 3 released leaves. */
    assert_int_equal(put_n(f->store, 0, 3, 1000000, fixture_decide_letters, "a"), TQ_OK);
    n = audit_size(f->store);
    assert_int_equal(n, 6);
    /* The same versions again change nothing, so they log nothing. */
    assert_int_equal(put_n(f->store, 0, 3, 1000000, fixture_decide_letters, "ab"), TQ_OK);
    assert_int_equal(audit_size(f->store), 6);
    /* A new version released to both: 1 stored + 2 released. */
    assert_int_equal(put_n(f->store, 0, 1, 2000000, fixture_decide_letters, "ab"), TQ_OK);
    assert_int_equal(audit_size(f->store), 9);

    fixture_indicator(&o, 0, 2000000);
    assert_int_equal(tq_stix_object_sha256(&o, sha, &err), TQ_OK);
    tq_free(o.json);
    for (i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", sha[i]);
    for (k = 0; k < 9; k++) {
        assert_int_equal(tq_store_audit_entry(f->store, k, &e, &err), TQ_OK);
        assert_int_equal(e.idx, k);
        if (strcmp(e.kind, "stored") == 0) {
            stored++;
            assert_null(e.partner);
        } else {
            assert_string_equal(e.kind, "released");
            assert_non_null(e.partner);
            released++;
            snprintf(want, sizeof(want), "\"partner\":\"%s\"", e.partner);
            assert_non_null(strstr(e.record, want));
        }
        assert_non_null(strstr(e.record, "\"collection\":\"" COLL_ID "\""));
        assert_non_null(strstr(e.record, ",\"v\":1"));
        if (k >= 6) {
            snprintf(want, sizeof(want), "\"sha256\":\"%s\"", hex);
            assert_non_null(strstr(e.record, want));
        }
        tq_store_audit_entry_cleanup(&e);
    }
    assert_int_equal(stored, 4);
    assert_int_equal(released, 5);
    assert_int_equal(tq_store_audit_entry(f->store, 9, &e, &err), TQ_ENOTFOUND);
}

static void failed_put_writes_no_leaf(void **state)
{
    struct fixture *f = *state;
    struct tq_stix_object o;
    struct tq_err err = {0};

    assert_int_equal(put_n(f->store, 0, 2, 1000000, fixture_decide_letters, "ab"), TQ_OK);
    assert_int_equal(audit_size(f->store), 6);
    /* The decision fails after the versions were inserted: everything is rolled back. */
    assert_int_not_equal(put_n(f->store, 10, 3, 1000000, decide_fail, NULL), TQ_OK);
    assert_int_equal(audit_size(f->store), 6);
    /* An unknown collection. */
    fixture_indicator(&o, 20, 1000000);
    assert_int_equal(tq_store_put_ex(f->store, "nope", &o, NULL, 1, NULL, NULL, NULL, NULL, &err),
                     TQ_ENOTFOUND);
    tq_free(o.json);
    assert_int_equal(audit_size(f->store), 6);
}

static void rebuild_gives_same_root(void **state)
{
    struct fixture *f = *state;
    struct tq_audit_options opt = {.no_thread = true};
    struct tq_audit_log *log = NULL;
    struct tq_err err = {0};
    uint8_t r1[32], r2[32], r3[32];
    uint64_t n;

    assert_int_equal(put_n(f->store, 0, 300, 1000000, fixture_decide_letters, "b"), TQ_OK);
    assert_int_equal(tq_audit_log_open(f->store, &opt, &log, &err), TQ_OK);
    n = tq_audit_size(log);
    assert_int_equal(n, 600);
    /* Leaves committed after open are caught up by a sync. */
    assert_int_equal(put_n(f->store, 1000, 5, 1000000, NULL, NULL), TQ_OK);
    assert_int_equal(tq_audit_sync(log, &err), TQ_OK);
    n = tq_audit_size(log);
    assert_int_equal(n, 605);
    assert_int_equal(tq_audit_root(log, n, r1, &err), TQ_OK);
    tq_audit_log_close(log);

    tq_store_close(f->store);
    f->store = fixture_store_open(f->path);
    assert_int_equal(tq_audit_log_open(f->store, &opt, &log, &err), TQ_OK);
    assert_int_equal(tq_audit_size(log), n);
    assert_int_equal(tq_audit_root(log, n, r2, &err), TQ_OK);
    assert_memory_equal(r1, r2, 32);
    table_root(f->store, n, r3);
    assert_memory_equal(r1, r3, 32);
    tq_audit_log_close(log);
}

static void checkpoints_verify_and_are_consistent(void **state)
{
    struct fixture *f = *state;
    struct tq_audit_options opt = {.no_thread = true};
    struct tq_audit_log *log = NULL;
    struct tq_note_signer signer;
    struct tq_note_verifier v;
    struct tq_note *n1 = NULL, *n2 = NULL;
    struct tq_checkpoint cp1, cp2;
    struct tq_merkle_proof proof;
    struct tq_str pv[TQ_MERKLE_PROOF_MAX];
    struct tq_err err = {0};
    uint8_t seed[32];
    char origin[TQ_AUDIT_ORIGIN_MAX], *t1 = NULL, *t2 = NULL, *latest = NULL, *again = NULL;
    uint8_t cert_sha[32];
    size_t i;

    memset(seed, 7, sizeof(seed));
    memset(cert_sha, 0xab, sizeof(cert_sha));
    tq_audit_default_origin(cert_sha, origin);
    assert_string_equal(origin, "tansiq/abababababababab");
    assert_int_equal(
        tq_note_signer_from_seed(tq_str_c(origin), TQ_NOTE_ALG_ED25519, seed, &signer, &err),
        TQ_OK);
    tq_note_signer_verifier(&signer, &v);

    assert_int_equal(tq_audit_log_open(f->store, &opt, &log, &err), TQ_OK);
    assert_int_equal(tq_audit_checkpoint_latest(log, &latest, &err), TQ_ENOTFOUND);
    assert_int_equal(put_n(f->store, 0, 7, 1000000, fixture_decide_letters, "a"), TQ_OK);
    assert_int_equal(tq_audit_checkpoint_sign(log, &signer, &t1, &err), TQ_OK);
    assert_int_equal(
        tq_checkpoint_open(tq_str_c(t1), tq_str_c(origin), &v, NULL, 0, &n1, &cp1, &err), TQ_OK);
    assert_int_equal(cp1.size, 14);

    assert_int_equal(put_n(f->store, 100, 300, 1000000, fixture_decide_letters, "ab"), TQ_OK);
    assert_int_equal(tq_audit_checkpoint_sign(log, &signer, &t2, &err), TQ_OK);
    assert_int_equal(
        tq_checkpoint_open(tq_str_c(t2), tq_str_c(origin), &v, NULL, 0, &n2, &cp2, &err), TQ_OK);
    assert_int_equal(cp2.size, 14 + 900);
    assert_int_equal(tq_audit_checkpoint_latest(log, &latest, &err), TQ_OK);
    assert_string_equal(latest, t2);

    /* The consistency proof a partner would ask for verifies between the two. */
    assert_int_equal(tq_audit_consistency(log, cp1.size, cp2.size, &proof, &err), TQ_OK);
    for (i = 0; i < proof.n; i++)
        pv[i] = (struct tq_str){(const char *)proof.hash[i], 32};
    assert_int_equal(tq_merkle_verify_consistency(cp1.size, cp2.size, pv, proof.n,
                                                  (struct tq_str){(char *)cp1.root, 32},
                                                  (struct tq_str){(char *)cp2.root, 32}, &err),
                     TQ_OK);

    /* fresh: nothing grew, so the latest is served again without a new signature. */
    assert_int_equal(tq_audit_checkpoint_fresh(log, &signer, 0, &again, &err), TQ_OK);
    assert_string_equal(again, t2);
    tq_free(again);
    again = NULL;
    /* A rewritten leaf makes the next checkpoint inconsistent: refused, nothing kept. */
    tq_audit_log_close(log);
    log = NULL;
    {
        char cmd[256];

        snprintf(cmd, sizeof(cmd),
                 "sqlite3 %s \"UPDATE audit_leaves SET leaf_hash = zeroblob(32) WHERE idx = 3\"",
                 f->path);
        if (system(cmd) != 0) {
            print_message("sqlite3 shell missing: tamper check skipped\n");
            goto out;
        }
    }
    assert_int_equal(tq_audit_log_open(f->store, &opt, &log, &err), TQ_OK);
    assert_int_equal(put_n(f->store, 5000, 1, 1000000, NULL, NULL), TQ_OK);
    assert_int_equal(tq_audit_checkpoint_sign(log, &signer, &again, &err), TQ_EINTEGRITY);
    assert_null(again);
    tq_free(latest);
    latest = NULL;
    assert_int_equal(tq_audit_checkpoint_latest(log, &latest, &err), TQ_OK);
    assert_string_equal(latest, t2);
out:
    tq_audit_log_close(log);
    tq_note_free(n1);
    tq_note_free(n2);
    tq_free(t1);
    tq_free(t2);
    tq_free(latest);
    tq_note_signer_cleanup(&signer);
}

static void batched_reads_flushed(void **state)
{
    struct fixture *f = *state;
    struct tq_audit_options opt = {.flush_interval_ms = 50, .flush_max = 8};
    struct tq_audit_log *log = NULL;
    struct tq_store_audit_entry e;
    struct tq_err err = {0};
    uint8_t sha[32];
    int i;

    memset(sha, 0x11, sizeof(sha));
    assert_int_equal(tq_audit_log_open(f->store, &opt, &log, &err), TQ_OK);
    assert_int_equal(tq_audit_note_read(log, "alpha", COLL_ID,
                                        "indicator--00000001-0000-4000-8000-000000000000", 1000,
                                        sha, &err),
                     TQ_OK);
    /* The timer writes it within a few intervals. */
    for (i = 0; i < 200 && audit_size(f->store) < 1; i++)
        usleep(10000);
    assert_int_equal(audit_size(f->store), 1);
    assert_int_equal(tq_store_audit_entry(f->store, 0, &e, &err), TQ_OK);
    assert_string_equal(e.kind, "read");
    assert_string_equal(e.partner, "alpha");
    assert_non_null(strstr(e.record, "\"sha256\":\"1111"));
    tq_store_audit_entry_cleanup(&e);
    /* One response of several versions is one leaf naming them by date_added, in JCS form. */
    {
        static const int64_t added[3] = {1700000000000001, 1700000000000002, 42};

        assert_int_equal(tq_audit_note_reads(log, "bravo", COLL_ID, added, 3, &err), TQ_OK);
        assert_int_equal(tq_audit_note_reads(log, "bravo", COLL_ID, added, 0, &err), TQ_EINVAL);
        assert_int_equal(tq_audit_flush(log, &err), TQ_OK);
        assert_int_equal(audit_size(f->store), 2);
        assert_int_equal(tq_store_audit_entry(f->store, 1, &e, &err), TQ_OK);
        assert_true(
            strncmp(e.record,
                    "{\"added\":[1700000000000001,1700000000000002,42],\"collection\":\"" COLL_ID
                    "\",\"kind\":\"read\",\"partner\":\"bravo\",\"time\":\"",
                    strlen("{\"added\":[1700000000000001,1700000000000002,42],"
                           "\"collection\":\"" COLL_ID
                           "\",\"kind\":\"read\",\"partner\":\"bravo\",\"time\":\"")) == 0);
        assert_non_null(strstr(e.record, "Z\",\"v\":1}"));
        tq_store_audit_entry_cleanup(&e);
    }
    /* A full batch goes at once (flush_max), and close writes what is left. */
    for (i = 0; i < 8 + 3; i++)
        assert_int_equal(tq_audit_note_read(log, "bravo", COLL_ID,
                                            "indicator--00000002-0000-4000-8000-000000000000", -1,
                                            NULL, &err),
                         TQ_OK);
    assert_int_equal(tq_audit_note_read(log, NULL, COLL_ID, "x", 1, NULL, &err), TQ_EINVAL);
    tq_audit_log_close(log);
    assert_int_equal(audit_size(f->store), 13);
}

/* An event of another kind: no collection, no object, fields of its own, sorted in the record. */
static void events_of_other_kinds(void **state)
{
    struct fixture *f = *state;
    struct tq_audit_options opt = {.flush_interval_ms = 50, .flush_max = 8};
    struct tq_audit_log *log = NULL;
    struct tq_store_audit_entry e;
    struct tq_err err = {0};
    struct tq_buf rec;
    uint8_t sha[32];
    const struct tq_store_audit_field fields[] = {
        {"watchlist", "un-sanctions"}, {"hits", "2"}, {"query_sha256", "ab"}};
    struct tq_store_audit_event ev = {.kind = "screen-query",
                                      .at_us = 1700000000000000,
                                      .partner = "alpha",
                                      .fields = fields,
                                      .n_fields = 3};

    assert_int_equal(tq_audit_log_open(f->store, &opt, &log, &err), TQ_OK);
    assert_int_equal(tq_audit_append_event(log, &ev, &err), TQ_OK);
    assert_int_equal(audit_size(f->store), 1);
    assert_int_equal(tq_store_audit_entry(f->store, 0, &e, &err), TQ_OK);
    assert_string_equal(e.kind, "screen-query");
    assert_string_equal(e.record,
                        "{\"hits\":\"2\",\"kind\":\"screen-query\",\"partner\":\"alpha\","
                        "\"query_sha256\":\"ab\",\"time\":\"2023-11-14T22:13:20.000000Z\","
                        "\"v\":1,\"watchlist\":\"un-sanctions\"}");
    tq_store_audit_entry_cleanup(&e);

    /* An object event with a field reads as the plain record with the field in its place. */
    memset(sha, 0x22, sizeof(sha));
    tq_buf_init(&rec, 1 << 16);
    {
        struct tq_store_audit_event plain = {.kind = "stored",
                                             .at_us = 1700000000000000,
                                             .collection = COLL_ID,
                                             .object =
                                                 "indicator--00000001-0000-4000-8000-000000000000",
                                             .version_us = 1000,
                                             .sha256 = sha};
        struct tq_store_audit_event with = plain;
        const struct tq_store_audit_field note = {"note", "x"};
        const char *at;

        with.fields = &note;
        with.n_fields = 1;
        assert_int_equal(tq_store_audit_record(&plain, &rec, &err), TQ_OK);
        at = strstr(rec.ptr, ",\"object\"");
        assert_non_null(at);
        {
            struct tq_buf want, got;
            tq_buf_init(&want, 1 << 16);
            tq_buf_init(&got, 1 << 16);
            assert_int_equal(tq_buf_append(&want, rec.ptr, (size_t)(at - rec.ptr)), TQ_OK);
            assert_int_equal(tq_buf_append_c(&want, ",\"note\":\"x\""), TQ_OK);
            assert_int_equal(tq_buf_append_c(&want, at), TQ_OK);
            assert_int_equal(tq_store_audit_record(&with, &got, &err), TQ_OK);
            assert_string_equal(got.ptr, want.ptr);
            tq_buf_cleanup(&want);
            tq_buf_cleanup(&got);
        }
    }
    tq_buf_cleanup(&rec);

    /* What the rules refuse: a field named like a record member, a field twice, a bad name, a
     * bad kind, and an object kind without its object. */
    {
        const struct tq_store_audit_field clash[] = {{"time", "x"}};
        const struct tq_store_audit_field twice[] = {{"a", "1"}, {"a", "2"}};
        const struct tq_store_audit_field upper[] = {{"Hits", "1"}};
        struct tq_store_audit_event bad = ev;

        bad.fields = clash;
        bad.n_fields = 1;
        assert_int_equal(tq_audit_append_event(log, &bad, &err), TQ_EINVAL);
        bad.fields = twice;
        bad.n_fields = 2;
        assert_int_equal(tq_audit_append_event(log, &bad, &err), TQ_EINVAL);
        bad.fields = upper;
        bad.n_fields = 1;
        assert_int_equal(tq_audit_append_event(log, &bad, &err), TQ_EINVAL);
        bad = ev;
        bad.kind = "Screen";
        assert_int_equal(tq_audit_append_event(log, &bad, &err), TQ_EINVAL);
        bad = ev;
        bad.kind = "released";
        assert_int_equal(tq_audit_append_event(log, &bad, &err), TQ_EINVAL);
        /* Text that is not UTF-8 has no canonical form: refused in a field and in a member. */
        {
            const struct tq_store_audit_field raw[] = {{"query", "caf\xe9"}};
            bad = ev;
            bad.fields = raw;
            bad.n_fields = 1;
            assert_int_equal(tq_audit_append_event(log, &bad, &err), TQ_EINVAL);
            bad = ev;
            bad.n_fields = 0;
            bad.partner = "alpha\xc0\xaf";
            assert_int_equal(tq_audit_append_event(log, &bad, &err), TQ_EINVAL);
            bad.partner = "alpha";
            bad.collection = "\xed\xa0\x80";
            assert_int_equal(tq_audit_append_event(log, &bad, &err), TQ_EINVAL);
        }
    }
    assert_int_equal(audit_size(f->store), 1);
    tq_audit_log_close(log);
}

static void tiles_and_entries(void **state)
{
    struct fixture *f = *state;
    struct tq_audit_options opt = {.no_thread = true};
    struct tq_audit_log *log = NULL;
    struct tq_store_audit_entry e;
    struct tq_err err = {0};
    struct tq_buf b;
    uint8_t lh[32];
    uint64_t n;

    assert_int_equal(put_n(f->store, 0, 150, 1000000, fixture_decide_letters, "a"), TQ_OK);
    assert_int_equal(tq_audit_log_open(f->store, &opt, &log, &err), TQ_OK);
    n = tq_audit_size(log);
    assert_int_equal(n, 300);
    tq_buf_init(&b, 1 << 20);
    assert_int_equal(tq_audit_tile(log, n, 0, 0, 256, &b, &err), TQ_OK);
    assert_int_equal(b.len, 256 * 32);
    assert_int_equal(tq_store_audit_entry(f->store, 255, &e, &err), TQ_OK);
    assert_memory_equal(b.ptr + 255 * 32, e.leaf_hash, 32);
    tq_buf_reset(&b);
    assert_int_equal(tq_audit_tile(log, n, 0, 1, 44, &b, &err), TQ_OK);
    assert_int_equal(tq_audit_tile(log, n, 0, 1, 45, &b, &err), TQ_ENOTFOUND);
    assert_int_equal(tq_audit_tile(log, n, 0, 2, 1, &b, &err), TQ_ENOTFOUND);
    assert_int_equal(tq_audit_tile(log, n, 1, 0, 1, &b, &err), TQ_OK);
    tq_buf_reset(&b);
    assert_int_equal(tq_audit_entries(log, n, 0, 256, &b, &err), TQ_OK);
    assert_int_equal(b.len, 256 * 34);
    assert_int_equal((uint8_t)b.ptr[255 * 34], 0);
    assert_int_equal((uint8_t)b.ptr[255 * 34 + 1], 32);
    assert_memory_equal(b.ptr + 255 * 34 + 2, e.commitment, 32);
    assert_int_equal(tq_merkle_leaf_hash(b.ptr + 255 * 34 + 2, 32, lh, &err), TQ_OK);
    assert_memory_equal(lh, e.leaf_hash, 32);
    tq_store_audit_entry_cleanup(&e);
    tq_buf_reset(&b);
    assert_int_equal(tq_audit_entries(log, n, 1, 44, &b, &err), TQ_OK);
    assert_int_equal(b.len, 44 * 34);
    assert_int_equal(tq_audit_entries(log, n, 1, 45, &b, &err), TQ_ENOTFOUND);
    tq_buf_cleanup(&b);
    tq_audit_log_close(log);
}

/* Keep a checkpoint note of (size, root) signed by signer, as a forger with the key would. */
static void put_forged(struct tq_store *s, const struct tq_note_signer *signer, uint64_t size,
                       const uint8_t root[32])
{
    struct tq_checkpoint cp = {0};
    struct tq_note *note = NULL;
    struct tq_buf text, out;
    struct tq_err err = {0};

    tq_buf_init(&text, TQ_NOTE_MAX_BYTES);
    tq_buf_init(&out, TQ_NOTE_MAX_BYTES);
    cp.origin = tq_str_c(signer->name);
    cp.size = size;
    memcpy(cp.root, root, 32);
    assert_int_equal(tq_checkpoint_format(&cp, &text, &err), TQ_OK);
    assert_int_equal(tq_note_new((struct tq_str){text.ptr, text.len}, &note, &err), TQ_OK);
    assert_int_equal(tq_note_sign(note, signer, &err), TQ_OK);
    assert_int_equal(tq_note_format(note, &out, &err), TQ_OK);
    assert_int_equal(tq_buf_append(&out, "", 1), TQ_OK);
    assert_int_equal(tq_store_audit_checkpoint_put(s, size, out.ptr, &err), TQ_OK);
    tq_note_free(note);
    tq_buf_cleanup(&text);
    tq_buf_cleanup(&out);
}

/*
 * A serving log and another process's log on one store (`serve` beside `tansiq sync` or `tansiq
 * log checkpoint`): whatever the other signs is what the server serves, and its tree covers it
 * at once, so every tile of it answers; a kept checkpoint the stored leaves do not prove is
 * refused rather than served.
 */
static void checkpoint_of_another_process(void **state)
{
    struct fixture *f = *state;
    struct tq_audit_options opt = {.no_thread = true};
    struct tq_audit_log *srv = NULL, *other = NULL;
    struct tq_store *other_store = fixture_store_open(f->path);
    struct tq_note_signer signer;
    struct tq_err err = {0};
    uint8_t seed[32], root[32], table[32];
    char *t1 = NULL, *t2 = NULL, *served = NULL;
    uint64_t size = 0, own;
    struct tq_buf b;

    memset(seed, 9, sizeof(seed));
    assert_int_equal(tq_note_signer_from_seed(tq_str_c("tansiq/0909090909090909"),
                                              TQ_NOTE_ALG_ED25519, seed, &signer, &err),
                     TQ_OK);
    tq_buf_init(&b, 1 << 20);
    assert_int_equal(tq_audit_log_open(f->store, &opt, &srv, &err), TQ_OK);
    assert_int_equal(tq_audit_log_open(other_store, &opt, &other, &err), TQ_OK);
    assert_int_equal(tq_audit_checkpoint_size(srv, &size, &err), TQ_ENOTFOUND);

    /* The other process stores and signs; the server has signed nothing and synced nothing. */
    assert_int_equal(put_n(other_store, 0, 5, 1000000, fixture_decide_letters, "a"), TQ_OK);
    assert_int_equal(tq_audit_checkpoint_sign(other, &signer, &t1, &err), TQ_OK);
    assert_int_equal(tq_audit_size(srv), 0);
    assert_int_equal(tq_audit_checkpoint_size(srv, &size, &err), TQ_OK);
    assert_int_equal(size, 10);
    assert_int_equal(tq_audit_size(srv), 10);
    assert_int_equal(tq_audit_tile(srv, size, 0, 0, 10, &b, &err), TQ_OK);
    assert_int_equal(tq_audit_checkpoint_fresh(srv, &signer, 0, &served, &err), TQ_OK);
    assert_string_equal(served, t1); /* nothing grew: the other's note, not a new one */
    tq_free(served);
    served = NULL;

    /* The server signs one of its own; within its interval the other signs a larger one, which
     * the server serves (not its own) with every tile of it, level 1 included. */
    assert_int_equal(put_n(f->store, 10, 1, 1000000, fixture_decide_letters, "a"), TQ_OK);
    assert_int_equal(tq_audit_checkpoint_fresh(srv, &signer, 60000, &served, &err), TQ_OK);
    assert_int_equal(tq_audit_checkpoint_size(srv, &own, &err), TQ_OK);
    assert_int_equal(own, 12);
    tq_free(served);
    served = NULL;
    assert_int_equal(put_n(other_store, 100, 150, 1000000, fixture_decide_letters, "a"), TQ_OK);
    assert_int_equal(tq_audit_checkpoint_sign(other, &signer, &t2, &err), TQ_OK);
    assert_int_equal(tq_audit_checkpoint_fresh(srv, &signer, 60000, &served, &err), TQ_OK);
    assert_string_equal(served, t2);
    assert_int_equal(tq_audit_checkpoint_size(srv, &size, &err), TQ_OK);
    assert_int_equal(size, 312);
    tq_buf_reset(&b);
    assert_int_equal(tq_audit_tile(srv, size, 0, 0, 256, &b, &err), TQ_OK);
    assert_int_equal(tq_audit_tile(srv, size, 0, 1, 56, &b, &err), TQ_OK);
    assert_int_equal(tq_audit_tile(srv, size, 1, 0, 1, &b, &err), TQ_OK);
    assert_int_equal(tq_audit_tile(srv, size, 0, 1, 57, &b, &err), TQ_ENOTFOUND);
    tq_buf_reset(&b);
    assert_int_equal(tq_audit_entries(srv, size, 1, 56, &b, &err), TQ_OK);
    assert_int_equal(tq_audit_root(srv, size, root, &err), TQ_OK);
    table_root(f->store, size, table);
    assert_memory_equal(root, table, 32);

    /* A kept checkpoint the leaves do not prove is never served: a wrong root, or more leaves
     * than the store holds (a forger with the key, or a store restored under a newer note). */
    assert_int_equal(put_n(other_store, 1000, 1, 1000000, NULL, NULL), TQ_OK);
    memset(root, 0x5a, sizeof(root));
    put_forged(f->store, &signer, 313, root);
    assert_int_equal(tq_audit_checkpoint_size(srv, &size, &err), TQ_EINTEGRITY);
    assert_non_null(strstr(err.msg, "do not hash to the root"));
    tq_free(served);
    served = NULL;
    assert_int_equal(tq_audit_checkpoint_fresh(srv, &signer, 0, &served, &err), TQ_EINTEGRITY);
    assert_null(served);
    table_root(f->store, 313, table);
    put_forged(f->store, &signer, 400, table);
    assert_int_equal(tq_audit_checkpoint_size(srv, &size, &err), TQ_EINTEGRITY);
    assert_non_null(strstr(err.msg, "the store holds 313"));

    tq_buf_cleanup(&b);
    tq_audit_log_close(other);
    tq_audit_log_close(srv);
    tq_store_close(other_store);
    tq_free(t1);
    tq_free(t2);
    tq_free(served);
    tq_note_signer_cleanup(&signer);
}

/* ---- release rewrites ------------------------------------------------------------------ */

/* Release to the partners named in the collection default's audience (a substring test). */
static tq_rc decide_audience(void *ud, const struct tq_store_release_view *view,
                             const struct tq_store_facts *facts, bool *released)
{
    size_t i;

    (void)ud;
    (void)facts;
    for (i = 0; i < view->n_partners; i++)
        released[i] = view->default_audience && strstr(view->default_audience, view->partners[i]);
    return TQ_OK;
}

/* Release to the members of group "g". */
static tq_rc decide_group_g(void *ud, const struct tq_store_release_view *view,
                            const struct tq_store_facts *facts, bool *released)
{
    size_t i, j;

    (void)ud;
    (void)facts;
    for (i = 0; i < view->n_partners; i++)
        for (j = 0; j < view->n_members; j++)
            if (strcmp(view->member_groups[j], "g") == 0 &&
                strcmp(view->member_partners[j], view->partners[i]) == 0)
                released[i] = true;
    return TQ_OK;
}

/*
 * The leaves from idx from on are exactly want[0..n): "kind partner object-number" each, the
 * record agreeing with the columns and its time equal to at_us, which lies in [t0, t1].
 */
static void expect_leaves(struct tq_store *s, uint64_t from, const char *const *want, size_t n,
                          int64_t t0, int64_t t1)
{
    struct tq_store_audit_entry e;
    struct tq_err err = {0};
    char kind[16], partner[16], frag[128], time[TQ_TIME_STR_MAX];
    unsigned obj;
    size_t i;

    assert_int_equal(audit_size(s), from + n);
    for (i = 0; i < n; i++) {
        assert_int_equal(sscanf(want[i], "%15s %15s %u", kind, partner, &obj), 3);
        assert_int_equal(tq_store_audit_entry(s, from + i, &e, &err), TQ_OK);
        if (strcmp(e.kind, kind) != 0 || !e.partner || strcmp(e.partner, partner) != 0)
            fail_msg("leaf %" PRIu64 ": %s %s, want %s", from + i, e.kind,
                     e.partner ? e.partner : "-", want[i]);
        snprintf(frag, sizeof(frag), "\"kind\":\"%s\",\"object\":\"indicator--%08x-", kind, obj);
        assert_non_null(strstr(e.record, frag));
        snprintf(frag, sizeof(frag), "\"partner\":\"%s\",\"sha256\":\"", partner);
        assert_non_null(strstr(e.record, frag));
        assert_true(e.at_us >= t0 && e.at_us <= t1);
        tq_time_format(e.at_us, time);
        snprintf(frag, sizeof(frag), "\"time\":\"%s\"", time);
        assert_non_null(strstr(e.record, frag));
        tq_store_audit_entry_cleanup(&e);
    }
}

static void release_rewrites_are_logged(void **state)
{
    struct fixture *f = *state;
    struct tq_audit_options opt = {.no_thread = true};
    struct tq_audit_log *log = NULL;
    struct tq_collection_policy pol = {0};
    struct tq_store_change ch = {0};
    struct tq_err err = {0};
    uint8_t r1[32], r2[32];
    uint64_t n;
    int64_t t0;

    /* 3 versions released to alpha: 3 stored + 3 released leaves. */
    assert_int_equal(put_n(f->store, 0, 3, 1000000, fixture_decide_letters, "a"), TQ_OK);
    assert_int_equal(tq_audit_log_open(f->store, &opt, &log, &err), TQ_OK);
    n = audit_size(f->store);
    assert_int_equal(n, 6);

    /* The collection default moves the versions from alpha to bravo. */
    t0 = tq_time_now_us();
    pol.audience = "bravo";
    ch = (struct tq_store_change){
        .kind = TQ_CHANGE_COLLECTION_POLICY, .collection_id = COLL_ID, .policy = &pol};
    assert_int_equal(tq_store_release_rewrite(f->store, &ch, COLL_ID, decide_audience, NULL, &err),
                     TQ_OK);
    {
        static const char *const want[] = {"withdrawn alpha 0", "withdrawn alpha 1",
                                           "withdrawn alpha 2", "released bravo 0",
                                           "released bravo 1",  "released bravo 2"};

        expect_leaves(f->store, n, want, 6, t0, tq_time_now_us());
    }
    n += 6;
    /* The same configuration again: every row stays, nothing is logged. */
    assert_int_equal(tq_store_release_rewrite(f->store, &ch, COLL_ID, decide_audience, NULL, &err),
                     TQ_OK);
    assert_int_equal(audit_size(f->store), n);
    /* Widening to both, over every collection: only alpha's rows are new. */
    t0 = tq_time_now_us();
    pol.audience = "alpha bravo";
    assert_int_equal(tq_store_release_rewrite(f->store, &ch, NULL, decide_audience, NULL, &err),
                     TQ_OK);
    {
        static const char *const want[] = {"released alpha 0", "released alpha 1",
                                           "released alpha 2"};

        expect_leaves(f->store, n, want, 3, t0, tq_time_now_us());
    }
    n += 3;
    /* A failing decision rolls the change back with its leaves. */
    assert_int_not_equal(tq_store_release_rewrite(f->store, NULL, NULL, decide_fail, NULL, &err),
                         TQ_OK);
    assert_int_equal(audit_size(f->store), n);

    /* Group membership: a new group releases to no one until bravo joins it. */
    t0 = tq_time_now_us();
    ch = (struct tq_store_change){.kind = TQ_CHANGE_GROUP_ADD, .name = "g"};
    assert_int_equal(tq_store_release_rewrite(f->store, &ch, NULL, decide_group_g, NULL, &err),
                     TQ_OK);
    {
        static const char *const want[] = {"withdrawn alpha 0", "withdrawn bravo 0",
                                           "withdrawn alpha 1", "withdrawn bravo 1",
                                           "withdrawn alpha 2", "withdrawn bravo 2"};

        expect_leaves(f->store, n, want, 6, t0, tq_time_now_us());
    }
    n += 6;
    t0 = tq_time_now_us();
    ch = (struct tq_store_change){
        .kind = TQ_CHANGE_MEMBER_SET, .name = "g", .member = "bravo", .is_member = true};
    assert_int_equal(tq_store_release_rewrite(f->store, &ch, NULL, decide_group_g, NULL, &err),
                     TQ_OK);
    {
        static const char *const want[] = {"released bravo 0", "released bravo 1",
                                           "released bravo 2"};

        expect_leaves(f->store, n, want, 3, t0, tq_time_now_us());
    }
    n += 3;
    /* Changes applied without a rewrite only narrow, and what they take away is logged too. */
    t0 = tq_time_now_us();
    assert_int_equal(tq_store_group_member_set(f->store, "g", "bravo", false, &err), TQ_OK);
    {
        static const char *const want[] = {"withdrawn bravo 0", "withdrawn bravo 1",
                                           "withdrawn bravo 2"};

        expect_leaves(f->store, n, want, 3, t0, tq_time_now_us());
    }
    n += 3;
    assert_int_equal(put_n(f->store, 0, 1, 2000000, fixture_decide_letters, "b"), TQ_OK);
    n += 2; /* stored + released to bravo */
    assert_int_equal(audit_size(f->store), n);
    t0 = tq_time_now_us();
    assert_int_equal(tq_store_partner_delete(f->store, "bravo", &err), TQ_OK);
    {
        static const char *const want[] = {"withdrawn bravo 0"};

        expect_leaves(f->store, n, want, 1, t0, tq_time_now_us());
    }
    n += 1;
    /* A partner put changes no release row and logs nothing. */
    add_partner(f->store, "charlie");
    assert_int_equal(audit_size(f->store), n);

    /* The in-memory tree catches up with every leaf of the rewrites. */
    assert_int_equal(tq_audit_sync(log, &err), TQ_OK);
    assert_int_equal(tq_audit_size(log), n);
    assert_int_equal(tq_audit_root(log, n, r1, &err), TQ_OK);
    table_root(f->store, n, r2);
    assert_memory_equal(r1, r2, 32);
    tq_audit_log_close(log);
}

/* ---- crash ---------------------------------------------------------------------------- */

#define CRASH_BATCH 20

static void crash_child(const char *path, int fd)
{
    struct tq_store *s = NULL;
    struct tq_err err = {0};
    uint32_t b;

    if (tq_store_open(path, NULL, &s, &err))
        _exit(2);
    for (b = 0; b < 100000; b++) {
        if (put_n(s, b * CRASH_BATCH, CRASH_BATCH, 1000000, fixture_decide_letters, "ab"))
            _exit(3);
        if (write(fd, &b, sizeof(b)) != (ssize_t)sizeof(b))
            _exit(4);
    }
    _exit(0);
}

static void crash_kill9_log_verifies(void **state)
{
    struct fixture *f = *state;
    struct tq_audit_options opt = {.no_thread = true};
    struct tq_audit_log *log = NULL;
    struct tq_err err = {0};
    uint8_t r1[32], r2[32];
    uint32_t b, max_acked = 0, acked = 0;
    int fds[2], status = 0;
    uint64_t n;
    ssize_t got;
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(f->path, fds[1]);
    }
    close(fds[1]);
    while (acked < 5) {
        got = read(fds[0], &b, sizeof(b));
        if (got != (ssize_t)sizeof(b))
            break;
        acked++;
        max_acked = b;
    }
    usleep(3000);
    kill(pid, SIGKILL);
    for (;;) {
        got = read(fds[0], &b, sizeof(b));
        if (got != (ssize_t)sizeof(b))
            break;
        acked++;
        max_acked = b;
    }
    close(fds[0]);
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    assert_true(acked > 0);

    tq_store_close(f->store);
    f->store = fixture_store_open(f->path);
    n = audit_size(f->store);
    /* Whole puts only: 3 leaves a version, every acknowledged batch present. */
    assert_int_equal(n % (3 * CRASH_BATCH), 0);
    assert_true(n >= (uint64_t)(max_acked + 1) * 3 * CRASH_BATCH);
    assert_int_equal(tq_audit_log_open(f->store, &opt, &log, &err), TQ_OK);
    assert_int_equal(tq_audit_size(log), n);
    assert_int_equal(tq_audit_root(log, n, r1, &err), TQ_OK);
    table_root(f->store, n, r2);
    assert_memory_equal(r1, r2, 32);
    print_message("crash: %u acknowledged puts, %" PRIu64 " leaves verify\n", max_acked + 1, n);
    tq_audit_log_close(log);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(leaves_with_puts_and_releases, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_put_writes_no_leaf, setup, teardown),
        cmocka_unit_test_setup_teardown(rebuild_gives_same_root, setup, teardown),
        cmocka_unit_test_setup_teardown(checkpoints_verify_and_are_consistent, setup, teardown),
        cmocka_unit_test_setup_teardown(batched_reads_flushed, setup, teardown),
        cmocka_unit_test_setup_teardown(events_of_other_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(tiles_and_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(checkpoint_of_another_process, setup, teardown),
        cmocka_unit_test_setup_teardown(release_rewrites_are_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(crash_kill9_log_verifies, setup, teardown),
    };

    if (sodium_init() < 0)
        return 1;
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
