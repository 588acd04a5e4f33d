/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of tq_store_copy (moving a node between backends): the copy's table list covers the
 * schema, tables, columns, keys and dependency order; a populated node store (collections,
 * versions, facts, partners, groups, releases, users, tokens, grants, status, audit leaves with
 * signed and cosigned checkpoints, witness state, alarms, receipts) is copied row for row, and
 * the copy's log has the same root, checkpoints that verify and proofs that hold, and grows on
 * as the source would; a destination with rows is refused and left as it was; a copy that fails
 * in the middle, or whose verification fails, leaves the destination empty; the copy reads one
 * snapshot while the source is written to.
 *
 * With TQ_TEST_STORE=postgres (tests/unit/backend.h: a new database on the test cluster) the store
 * is also copied SQLite -> PostgreSQL -> SQLite and compared; without it that test is not run and
 * the program says so.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "store/store.h" /* tq__store_copy_tables, exported for the schema check */
#include "tansiq/audit.h"
#include "tansiq/merkle.h"
#include "tansiq/monitor_store.h"
#include "tansiq/note.h"
#include "tansiq/psi_store.h"
#include "tansiq/store.h"
#include "tansiq/watchlist_store.h"
#include "tansiq/web_store.h"
#include "backend.h"
#include "fixture.h"

#define COLL_A "11111111-2222-4333-8444-555555555555"
#define COLL_B "66666666-7777-4888-9999-aaaaaaaaaaaa"
#define ORIGIN "tansiq/abababababababab"
#define WITNESS "witness.example/w1"

struct fixture {
    char dir[64];
    char src[96], dst[96], back[96];
    struct tq_store *from, *to;
    struct tq_note_signer signer, cosigner;
};

static int setup(void **state)
{
    struct fixture *f = tq_xcalloc(1, sizeof(*f));
    struct tq_err err = {0};
    uint8_t seed[32];

    snprintf(f->dir, sizeof(f->dir), "/tmp/tq-copy-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->src, sizeof(f->src), "%s/src.db", f->dir);
    snprintf(f->dst, sizeof(f->dst), "%s/dst.db", f->dir);
    snprintf(f->back, sizeof(f->back), "%s/back.db", f->dir);
    f->from = fixture_store_open(f->src);
    f->to = fixture_store_open(f->dst);
    memset(seed, 7, sizeof(seed));
    assert_int_equal(
        tq_note_signer_from_seed(tq_str_c(ORIGIN), TQ_NOTE_ALG_ED25519, seed, &f->signer, &err),
        TQ_OK);
    memset(seed, 9, sizeof(seed));
    assert_int_equal(
        tq_note_signer_from_seed(tq_str_c(WITNESS), TQ_NOTE_ALG_COSIG_V1, seed, &f->cosigner, &err),
        TQ_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tq_store_close(f->from);
    tq_store_close(f->to);
    tq_note_signer_cleanup(&f->signer);
    tq_note_signer_cleanup(&f->cosigner);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    tq_free(f);
    return 0;
}

/* ---- what the tests read with SQLite itself ------------------------------------------- */

static sqlite3 *sql_open(const char *path)
{
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        fail_msg("sqlite3 open %s: %s", path, sqlite3_errmsg(db));
    sqlite3_busy_timeout(db, 10000);
    return db;
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db = sql_open(path);
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

/* A statement on db; fails the test when SQLite refuses it. */
static sqlite3_stmt *sql_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    return st;
}

/*
 * The tables of a store's schema, by name, without the node pages of the R*Tree (its shadow
 * tables, whose layout depends on insertion order; the R*Tree itself is read as a table).
 */
#define SCHEMA_TABLES                                                                              \
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "            \
    "AND name NOT IN ('incidents_rtree_node', 'incidents_rtree_rowid', "                           \
    "'incidents_rtree_parent') ORDER BY name"
/* The tables the copy's list must name: the R*Tree is filled by the triggers of incidents. */
#define COPIED_TABLES                                                                              \
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "            \
    "AND name NOT LIKE 'incidents\\_rtree%' ESCAPE '\\' ORDER BY name"

/* Append one value of a row, typed, so that NULL, '' and 0 and a blob all differ. */
static void dump_value(struct tq_buf *b, sqlite3_stmt *st, int i)
{
    const unsigned char *p;
    int n;

    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        tq_buf_append_c(b, "N");
        break;
    case SQLITE_INTEGER:
        tq_buf_printf(b, "I%lld", (long long)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        tq_buf_printf(b, "F%.17g", sqlite3_column_double(st, i));
        break;
    case SQLITE_TEXT:
        p = sqlite3_column_text(st, i);
        n = sqlite3_column_bytes(st, i);
        tq_buf_printf(b, "T%d:", n);
        tq_buf_append(b, p, (size_t)n);
        break;
    default:
        p = sqlite3_column_blob(st, i);
        n = sqlite3_column_bytes(st, i);
        tq_buf_printf(b, "B%d:", n);
        for (int k = 0; k < n; k++)
            tq_buf_printf(b, "%02x", p[k]);
        break;
    }
}

/*
 * Every row of every table of the file's schema (sqlite_master, not the copy's list), ordered
 * by all columns, with types: two dumps are equal when the stores hold the same rows. Without
 * meta: the table of node metadata is left out. New string (tq_free).
 */
static char *dump(const char *path, bool meta)
{
    sqlite3 *db = sql_open(path);
    sqlite3_stmt *tables = NULL, *st = NULL;
    struct tq_buf b, sql;

    tq_buf_init(&b, 1u << 28);
    tq_buf_init(&sql, 1u << 12);
    tables = sql_prepare(db, SCHEMA_TABLES);
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(tables, 0);
        int ncol;

        if (!meta && strcmp(t, "meta") == 0)
            continue;
        tq_buf_reset(&sql);
        tq_buf_printf(&sql, "SELECT * FROM \"%s\"", t);
        st = sql_prepare(db, sql.ptr);
        ncol = sqlite3_column_count(st);
        sqlite3_finalize(st);
        tq_buf_append_c(&sql, " ORDER BY 1");
        for (int i = 2; i <= ncol; i++)
            tq_buf_printf(&sql, ", %d", i);
        st = sql_prepare(db, sql.ptr);
        tq_buf_printf(&b, "[%s]\n", t);
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int i = 0; i < ncol; i++) {
                tq_buf_append_c(&b, i ? "|" : "");
                dump_value(&b, st, i);
            }
            tq_buf_append_c(&b, "\n");
        }
        sqlite3_finalize(st);
    }
    sqlite3_finalize(tables);
    sqlite3_close(db);
    tq_buf_cleanup(&sql);
    return tq_buf_take(&b, NULL);
}

static void assert_same_rows(const char *a, const char *b, bool meta)
{
    char *da = dump(a, meta), *db = dump(b, meta);

    if (strcmp(da, db) != 0)
        fail_msg("%s and %s hold different rows", a, b);
    tq_free(da);
    tq_free(db);
}

static uint64_t sql_count(const char *path, const char *sql)
{
    sqlite3 *db = sql_open(path);
    sqlite3_stmt *st = NULL;
    uint64_t n;

    st = sql_prepare(db, sql);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* ---- a populated node store ------------------------------------------------------------ */

static void put(struct tq_store *s, const char *coll, unsigned first, unsigned n,
                int64_t version_us, const struct tq_store_facts *facts, const char *letters)
{
    struct tq_stix_object *o = tq_xcalloc(n, sizeof(*o));
    struct tq_store_facts *fv = tq_xcalloc(n, sizeof(*fv));
    struct tq_err err = {0};
    tq_rc rc;

    for (unsigned i = 0; i < n; i++) {
        fixture_indicator(&o[i], first + i, version_us);
        if (facts)
            fv[i] = *facts;
    }
    rc = tq_store_put_ex(s, coll, o, facts ? fv : NULL, n, fixture_decide_letters, (void *)letters,
                         NULL, NULL, &err);
    for (unsigned i = 0; i < n; i++)
        tq_free(o[i].json);
    tq_free(o);
    tq_free(fv);
    if (rc)
        fail_msg("put: %s", err.msg);
}

static void partner(struct tq_store *s, const char *name, const char *url, uint8_t pin)
{
    struct tq_partner p = {0};
    struct tq_err err = {0};

    snprintf(p.name, sizeof(p.name), "%s", name);
    p.taxii_url = (char *)url;
    p.cert_pem = url ? "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" : NULL;
    p.sign_pubkey = url ? "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" : NULL;
    memset(p.cert_sha256, pin, sizeof(p.cert_sha256));
    p.added_us = 1700000000000000 + pin;
    if (tq_store_partner_put(s, &p, &err))
        fail_msg("partner %s: %s", name, err.msg);
}

static void must(tq_rc rc, const struct tq_err *err, const char *what)
{
    if (rc)
        fail_msg("%s: %s (%s)", what, err->msg, tq_rc_str(rc));
}

/* Sign a checkpoint of the whole log now; the note is returned (tq_free). */
static char *sign(struct fixture *f, struct tq_store *s)
{
    struct tq_audit_options opt = {.no_thread = true};
    struct tq_audit_log *log = NULL;
    struct tq_err err = {0};
    char *note = NULL;

    must(tq_audit_log_open(s, &opt, &log, &err), &err, "log open");
    must(tq_audit_checkpoint_sign(log, &f->signer, &note, &err), &err, "sign");
    tq_audit_log_close(log);
    return note;
}

/* Add the witness's cosignature to the kept checkpoint note of that size. */
static void cosign(struct fixture *f, struct tq_store *s, const char *note, uint64_t size)
{
    struct tq_note *n = NULL;
    struct tq_err err = {0};
    struct tq_buf b;

    tq_buf_init(&b, 1u << 16);
    must(tq_note_parse(tq_str_c(note), &n, &err), &err, "parse note");
    must(tq_note_cosign(n, &f->cosigner, 1700000000, &err), &err, "cosign");
    must(tq_note_format(n, &b, &err), &err, "format");
    must(tq_store_audit_checkpoint_update(s, size, b.ptr, &err), &err, "checkpoint update");
    tq_note_free(n);
    tq_buf_cleanup(&b);
}

/*
 * A store as a node leaves it after weeks of work: two collections, versions with facts and
 * releases, partners and groups, users with tokens and grants, status resources, audit leaves
 * of every kind with two checkpoints (the first cosigned), a partner log witnessed, an alarm and
 * receipts. NULLs where the schema allows them.
 */
/* A row in every border-monitoring table, hanging off version 1000000 of indicator 0 in A. */
static void populate_monitor(struct tq_store *s)
{
    struct tq_store_geo_unit u = {.level = 1,
                                  .pcode = "IQ01",
                                  .country_pcode = "IQ",
                                  .country_en = "Iraq",
                                  .name_en = "Anbar",
                                  .name_ar = "\u0627\u0644\u0623\u0646\u0628\u0627\u0631",
                                  .geometry = "{\"type\":\"Point\",\"coordinates\":[41,33]}",
                                  .repaired = true,
                                  .loaded_us = 1700000000000100};
    struct tq_store_incident inc = {.collection_id = COLL_A,
                                    .kind = "event",
                                    .at_us = 1690000000000000,
                                    .lon_e7 = 410000000,
                                    .lat_e7 = 330000000,
                                    .where_prec = 2,
                                    .country = "IQ",
                                    .adm1_pcode = "IQ01",
                                    .border_m = 1234,
                                    .tag_flags = 3};
    struct tq_store_occurrence occ = {.kind = 1, .value = "198.51.100.7"};
    struct tq_store_alert_rule rule = {
        .name = "near-border", .kind = "border", .params = "{\"m\":5000}", .enabled = true};
    struct tq_store_alert al = {.rule = "near-border",
                                .kind = "border",
                                .title = "an event near the border",
                                .detail = "{}",
                                .collections = {COLL_A},
                                .n_collections = 1,
                                .dedup = "d1",
                                .at_us = 1700000000000200};
    struct tq_store_version_info vi = {0};
    struct tq_err err = {0};

    must(tq_store_version_info_get(s, COLL_A, "indicator--00000000-0000-4000-8000-000000000000",
                                   1000000, &vi, &err),
         &err, "version info");
    inc.date_added_us = vi.date_added_us;
    tq_store_version_info_cleanup(&vi);
    must(tq_store_geo_units_put(s, &u, 1, &err), &err, "unit");
    must(tq_store_incident_put(s, &inc, &err), &err, "incident");
    must(tq_store_correl_put(s, COLL_A, inc.date_added_us, &occ, 1, &err), &err, "occurrence");
    must(tq_store_alert_rule_add(s, &rule, NULL, &err), &err, "rule");
    must(tq_store_alert_add(s, &al, NULL, &err), &err, "alert");
}

/* A watchlist of one entry with two names, one of them in Arabic script; no source (NULL). */
static void populate_watchlist(struct tq_store *s)
{
    struct tq_watch_name names[] = {
        {.name = "Abu Mohammed al-Julani"},
        {.name = "\u0623\u0628\u0648 \u0645\u062d\u0645\u062f", .quality = TQ_WATCH_ORIGINAL}};
    struct tq_watch_dob dob = {.kind = TQ_WATCH_DOB_YEAR, .year = 1982};
    struct tq_watch_nationality nat = {.name = "Syrian Arab Republic", .iso = "SY"};
    struct tq_watch_entry e = {.ref = "W-1",
                               .names = names,
                               .n_names = 2,
                               .dobs = &dob,
                               .n_dobs = 1,
                               .nats = &nat,
                               .n_nats = 1};
    struct tq_store_watchlist w = {.name = "wanted", .format = "csv"};
    struct tq_err err = {0};

    must(tq_store_watchlist_put(s, &w, &e, 1, NULL, &err), &err, "watchlist");
}

/* A PSI grant and one run of it, the run with a session and a count. */
static void populate_psi(struct tq_store *s)
{
    struct tq_store_psi_grant g = {
        .partner = "bravo", .list = "wanted", .modes = 3, .runs_per_day = 10, .min_entries = 10};
    struct tq_store_psi_run r = {.at_us = 1700000000000000,
                                 .partner = "bravo",
                                 .list = "wanted",
                                 .role = "responder",
                                 .session = "00112233445566778899aabbccddeeff",
                                 .mode = "matches",
                                 .keys_per_entry = 8,
                                 .own_entries = 1,
                                 .peer_entries = 12,
                                 .count = 1,
                                 .outcome = "finished"};
    struct tq_err err = {0};

    must(tq_store_psi_grant_put(s, &g, &err), &err, "psi grant");
    must(tq_store_psi_run_admit(s, &r, 0, 0, &err), &err, "psi run");
}

static void populate(struct fixture *f, struct tq_store *s)
{
    struct tq_collection a = {.alias = "alpha-coll", .title = "A", .description = "first"};
    struct tq_collection b = {.title = "B"};
    struct tq_collection_policy pol = {.default_tlp = 2, .audience = "group:g1"};
    struct tq_store_facts remote = {.tlp = 3,
                                    .no_further_sharing = true,
                                    .release_to = "partner:alpha",
                                    .restrict_to = "group:g1",
                                    .origin = "bravo",
                                    .remote_collection = "rc-1",
                                    .received_us = 1700000000000123};
    struct tq_store_facts pending = {.pending = "marking-definition--0000",
                                     .not_understood = "x-mark"};
    struct tq_store_audit_field fields[] = {{"user", "alice"}, {"via", "cli"}};
    struct tq_store_audit_event login = {
        .kind = "login", .at_us = 1700000000000999, .fields = fields, .n_fields = 2};
    struct tq_store_change drop = {
        .kind = TQ_CHANGE_MEMBER_SET, .name = "g1", .member = "bravo", .is_member = false};
    struct tq_store_witness w = {.size = 10, .note = "witness.example/w1\n10\nroot\n\n- sig\n"};
    struct tq_store_alarm alarm = {
        .origin = "bravo.example/log", .reason = "inconsistent", .new_note = "new checkpoint"};
    struct tq_store_audit_entry e[2] = {{0}};
    struct tq_err err = {0};
    uint8_t hash[32];
    char *t1, *t2;

    must(tq_store_meta_set(s, "node.identity_key", "source-key", &err), &err, "meta");
    must(tq_store_meta_set(s, "node.identity", "identity--1", &err), &err, "meta");
    snprintf(a.id, sizeof(a.id), "%s", COLL_A);
    snprintf(b.id, sizeof(b.id), "%s", COLL_B);
    must(tq_store_collection_add(s, &a, &err), &err, "collection a");
    must(tq_store_collection_add(s, &b, &err), &err, "collection b");
    partner(s, "alpha", "https://alpha.example:8443", 1);
    partner(s, "bravo", "https://bravo.example:8443", 2);
    partner(s, "charlie", NULL, 0); /* no URL, no pinned certificate: NULLs */
    must(tq_store_group_add(s, "g1", &err), &err, "group");
    must(tq_store_group_add(s, "g2", &err), &err, "group");
    must(tq_store_group_member_set(s, "g1", "alpha", true, &err), &err, "member");
    must(tq_store_group_member_set(s, "g1", "bravo", true, &err), &err, "member");
    must(tq_store_group_member_set(s, "g2", "charlie", true, &err), &err, "member");
    must(tq_store_collection_policy_set(s, COLL_A, &pol, &err), &err, "policy");
    must(tq_store_user_put(s, "alice", "$argon2id$v=19$alice", &err), &err, "user");
    must(tq_store_user_put(s, "bob", "$argon2id$v=19$bob", &err), &err, "user");
    memset(hash, 0x11, sizeof(hash));
    must(tq_store_token_add(s, "alice", hash, "laptop", &err), &err, "token");
    memset(hash, 0x22, sizeof(hash));
    must(tq_store_token_add(s, "alice", hash, NULL, &err), &err, "token");
    memset(hash, 0x33, sizeof(hash));
    must(tq_store_token_add(s, "bob", hash, "ci", &err), &err, "token");
    {
        struct tq_store_web_session ws = {.created_us = 1700000000000000,
                                          .last_us = 1700000000500000,
                                          .expires_us = 1700043200000000};

        memset(ws.hash, 0x44, sizeof(ws.hash));
        snprintf(ws.user, sizeof(ws.user), "alice");
        snprintf(ws.csrf, sizeof(ws.csrf), "csrf-token");
        must(tq_store_web_session_put(s, &ws, &err), &err, "web session");
    }
    must(tq_store_perm_set(s, "alice", COLL_A, true, true, &err), &err, "perm");
    must(tq_store_perm_set(s, "bob", "*", true, false, &err), &err, "perm");
    must(tq_store_perm_set(s, "partner:alpha", COLL_A, true, false, &err), &err, "perm");
    must(tq_store_perm_set(s, "partner:bravo", COLL_B, true, false, &err), &err, "perm");
    must(tq_store_status_put(s, "status-1", "alice", 1700000000000001, "{\"id\":\"status-1\"}", 17,
                             &err),
         &err, "status");
    must(tq_store_status_put(s, "status-2", "bob", 1700000000000002, "{}", 2, &err), &err,
         "status");

    /* Versions: several per object, some with remote facts, some pending. */
    put(s, COLL_A, 0, 12, 1000000, NULL, "ab");
    put(s, COLL_A, 0, 5, 2000000, &remote, "ab");
    put(s, COLL_A, 100, 3, -1, &pending, "abc");
    put(s, COLL_B, 0, 6, 3000000, NULL, "c");
    put(s, COLL_B, 3, 2, 4000000, NULL, "bc");
    t1 = sign(f, s);
    /* A configuration change: bravo leaves g1, releases are decided again (withdrawn leaves). */
    must(tq_store_release_rewrite(s, &drop, NULL, fixture_decide_letters, "a", &err), &err,
         "rewrite");
    must(tq_store_audit_append(s, &login, 1, &err), &err, "audit event");
    put(s, COLL_A, 200, 4, 5000000, NULL, "a");
    t2 = sign(f, s);
    {
        struct tq_note *n = NULL;
        struct tq_checkpoint cp;

        must(tq_note_parse(tq_str_c(t1), &n, &err), &err, "parse t1");
        must(tq_checkpoint_parse(n->text, &cp, &err), &err, "checkpoint t1");
        cosign(f, s, t1, cp.size);
        tq_note_free(n);
    }

    snprintf(w.origin, sizeof(w.origin), "%s", "alpha.example/log");
    snprintf(w.partner, sizeof(w.partner), "%s", "alpha");
    memset(w.root, 0x5a, sizeof(w.root));
    w.at_us = 1700000000000777;
    must(tq_store_witness_advance(s, &w, 0, NULL, &err), &err, "witness");
    snprintf(alarm.partner, sizeof(alarm.partner), "%s", "bravo");
    must(tq_store_alarm_add(s, &alarm, NULL, &err), &err, "alarm"); /* old_note, proof NULL */
    must(tq_store_audit_entry(s, 0, &e[0], &err), &err, "entry");
    must(tq_store_audit_entry(s, 1, &e[1], &err), &err, "entry");
    must(tq_store_receipts_put(s, "alpha", e, 2, 40, &err), &err, "receipts");
    tq_store_audit_entry_cleanup(&e[0]);
    tq_store_audit_entry_cleanup(&e[1]);
    tq_free(t1);
    tq_free(t2);
    populate_monitor(s);
    populate_watchlist(s);
    populate_psi(s);
}

struct progress {
    size_t tables;
    uint64_t rows;
    size_t stop_after; /* 0: never */
    /* Called after table stop_write (when set): a write to the source through another handle. */
    const char *stop_write;
    struct tq_store *writer;
};

static tq_rc on_table(void *ud, const char *table, uint64_t rows)
{
    struct progress *p = ud;

    assert_string_equal(table, tq__store_copy_tables[p->tables].name);
    p->tables++;
    p->rows += rows;
    if (p->writer && strcmp(table, p->stop_write) == 0)
        put(p->writer, COLL_A, 900, 5, 9000000, NULL, "ab");
    if (p->stop_after && p->tables == p->stop_after)
        return TQ_EIO;
    return TQ_OK;
}

static uint64_t total_rows(const char *path)
{
    uint64_t n = 0;
    char sql[128];

    for (size_t i = 0; i < tq__store_copy_n_tables; i++) {
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\"", tq__store_copy_tables[i].name);
        n += sql_count(path, sql);
    }
    return n;
}

/* ---- the copy's log is the source's log ----------------------------------------------- */

struct notes {
    char *note[8];
    uint64_t size[8];
    size_t n;
};

static bool keep_note(void *ud, uint64_t size, int64_t at_us, const char *note)
{
    struct notes *v = ud;

    (void)at_us;
    assert_true(v->n < 8);
    v->size[v->n] = size;
    v->note[v->n++] = tq_xstrdup(note);
    return true;
}

static void proof_strs(const struct tq_merkle_proof *p, struct tq_str *out)
{
    for (size_t i = 0; i < p->n; i++)
        out[i] = (struct tq_str){(const char *)p->hash[i], 32};
}

/*
 * The copy's log: the same size and root as the source's, every kept checkpoint verifies with
 * the node's key (the cosigned one with the witness's too) and matches the copy's tree, and
 * inclusion and consistency proofs from the copy verify against those checkpoints.
 */
static void assert_same_log(struct fixture *f, struct tq_store *src, struct tq_store *cpy)
{
    struct tq_audit_options opt = {.no_thread = true};
    struct tq_audit_log *ls = NULL, *lc = NULL;
    struct tq_note_verifier v, wv;
    struct tq_merkle_proof proof;
    struct tq_str pv[TQ_MERKLE_PROOF_MAX];
    struct notes notes = {0};
    struct tq_err err = {0};
    uint8_t rs[32], rc[32], leaf[32], prev_root[32];
    uint64_t size, cps = 0, prev = 0;
    size_t got, cosigned = 0;

    tq_note_signer_verifier(&f->signer, &v);
    tq_note_signer_verifier(&f->cosigner, &wv);
    must(tq_audit_log_open(src, &opt, &ls, &err), &err, "open source log");
    must(tq_audit_log_open(cpy, &opt, &lc, &err), &err, "open copy log");
    size = tq_audit_size(ls);
    assert_true(size > 0);
    assert_int_equal(tq_audit_size(lc), size);
    must(tq_audit_root(ls, size, rs, &err), &err, "source root");
    must(tq_audit_root(lc, size, rc, &err), &err, "copy root");
    assert_memory_equal(rs, rc, 32);
    /* The latest checkpoint is the copy's too, checked against its tree. */
    must(tq_audit_checkpoint_size(lc, &cps, &err), &err, "copy checkpoint size");

    must(tq_store_audit_checkpoints(cpy, 0, keep_note, &notes, &err), &err, "checkpoints");
    assert_int_equal(notes.n, 2);
    for (size_t k = notes.n; k-- > 0;) { /* oldest first */
        struct tq_note *n = NULL;
        struct tq_checkpoint cp;

        must(tq_checkpoint_open(tq_str_c(notes.note[k]), tq_str_c(ORIGIN), &v, &wv, 1, &n, &cp,
                                &err),
             &err, "checkpoint open");
        assert_int_equal(cp.size, notes.size[k]);
        cosigned += n->n_verified == 2;
        must(tq_audit_root(lc, cp.size, rc, &err), &err, "root at checkpoint");
        assert_memory_equal(rc, cp.root, 32);
        for (uint64_t idx = 0; idx < cp.size; idx += cp.size / 5 + 1) {
            must(tq_store_audit_leaf_hashes(cpy, idx, 1, &leaf, &got, &err), &err, "leaf");
            assert_int_equal(got, 1);
            must(tq_audit_inclusion(lc, idx, cp.size, &proof, &err), &err, "inclusion");
            proof_strs(&proof, pv);
            must(tq_merkle_verify_inclusion((struct tq_str){(const char *)leaf, 32}, idx, cp.size,
                                            pv, proof.n, (struct tq_str){(const char *)cp.root, 32},
                                            &err),
                 &err, "verify inclusion");
        }
        if (prev) {
            must(tq_audit_consistency(lc, prev, cp.size, &proof, &err), &err, "consistency");
            proof_strs(&proof, pv);
            must(tq_merkle_verify_consistency(prev, cp.size, pv, proof.n,
                                              (struct tq_str){(const char *)prev_root, 32},
                                              (struct tq_str){(const char *)cp.root, 32}, &err),
                 &err, "verify consistency");
        }
        prev = cp.size;
        memcpy(prev_root, cp.root, 32);
        tq_note_free(n);
        tq_free(notes.note[k]);
    }
    assert_int_equal(cosigned, 1);
    assert_int_equal(cps, prev);
    tq_audit_log_close(ls);
    tq_audit_log_close(lc);
}

/* ---- tests ---------------------------------------------------------------------------- */

static enum tq__store_copy_kind kind_of(const char *decl)
{
    if (strcmp(decl, "INTEGER") == 0)
        return TQ__COPY_INT;
    if (strcmp(decl, "TEXT") == 0)
        return TQ__COPY_TEXT;
    if (strcmp(decl, "BLOB") == 0)
        return TQ__COPY_BLOB;
    fail_msg("column type '%s' has no copy kind", decl);
    return TQ__COPY_TEXT;
}

static size_t list_index(const char *table)
{
    for (size_t i = 0; i < tq__store_copy_n_tables; i++)
        if (strcmp(tq__store_copy_tables[i].name, table) == 0)
            return i;
    fail_msg("table %s of the schema is not in the copy's list (src/store/copy.c)", table);
    return 0;
}

/* Whether SQL text reads FROM table (a trigger's lookup). */
static bool reads_table(const char *sql, const char *table)
{
    size_t n = strlen(table);

    for (const char *p = strstr(sql, "FROM "); p; p = strstr(p + 1, "FROM "))
        if (strncmp(p + 5, table, n) == 0 && (p[5 + n] == ' ' || p[5 + n] == '\0'))
            return true;
    return false;
}

/*
 * The copy's list is the schema: every table, no other; every column with the kind of its
 * declared type, in table order; the primary key first, as n_key columns; and every table after
 * those its foreign keys and insert triggers read. A table or column added by a later migration
 * fails here until the list has it.
 */
static void copy_list_covers_schema(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = sql_open(f->dst);
    sqlite3_stmt *st = NULL, *cols = NULL;
    bool *seen = tq_xcalloc(tq__store_copy_n_tables, sizeof(bool));
    char sql[256];
    size_t n_tables = 0;

    st = sql_prepare(db, COPIED_TABLES);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        size_t ti = list_index(name);
        const struct tq__store_copy_table *t = &tq__store_copy_tables[ti];
        size_t c = 0;

        seen[ti] = true;
        n_tables++;
        snprintf(sql, sizeof(sql), "PRAGMA table_info(\"%s\")", name);
        cols = sql_prepare(db, sql);
        while (sqlite3_step(cols) == SQLITE_ROW) {
            const char *col = (const char *)sqlite3_column_text(cols, 1);
            const char *decl = (const char *)sqlite3_column_text(cols, 2);
            int pk = sqlite3_column_int(cols, 5);

            if (c >= t->n_cols)
                fail_msg("column %s.%s is not in the copy's list", name, col);
            if (strcmp(col, t->cols[c].name) != 0)
                fail_msg("column %zu of %s is %s, the copy's list says %s", c, name, col,
                         t->cols[c].name);
            if (kind_of(decl) != t->cols[c].kind)
                fail_msg("column %s.%s is %s, the copy's list has another kind", name, col, decl);
            /* pk is the column's place in the primary key (1-based), 0 outside it. */
            if (c < t->n_key ? pk != (int)c + 1 : pk != 0)
                fail_msg("%s: the first %zu columns must be the primary key (%s has pk %d)", name,
                         t->n_key, col, pk);
            c++;
        }
        sqlite3_finalize(cols);
        assert_int_equal(c, t->n_cols);
        /* Parents first: what a foreign key points at is copied before. */
        snprintf(sql, sizeof(sql), "PRAGMA foreign_key_list(\"%s\")", name);
        cols = sql_prepare(db, sql);
        while (sqlite3_step(cols) == SQLITE_ROW) {
            const char *parent = (const char *)sqlite3_column_text(cols, 2);

            if (list_index(parent) >= ti)
                fail_msg("%s refers to %s, which the copy's list puts after it", name, parent);
        }
        sqlite3_finalize(cols);
    }
    sqlite3_finalize(st);
    assert_int_equal(n_tables, tq__store_copy_n_tables);
    for (size_t i = 0; i < tq__store_copy_n_tables; i++)
        if (!seen[i])
            fail_msg("the copy's list names %s, which the schema lacks",
                     tq__store_copy_tables[i].name);
    /* A trigger that checks an insert (perms: its principal) reads tables copied before. */
    st = sql_prepare(db, "SELECT tbl_name, sql FROM sqlite_master WHERE type = "
                         "'trigger' AND sql LIKE '%BEFORE INSERT%'");
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t ti = list_index((const char *)sqlite3_column_text(st, 0));
        const char *text = (const char *)sqlite3_column_text(st, 1);

        for (size_t i = 0; i < tq__store_copy_n_tables; i++)
            if (reads_table(text, tq__store_copy_tables[i].name) && i >= ti)
                fail_msg("a trigger on %s reads %s, which the copy's list puts after it",
                         tq__store_copy_tables[ti].name, tq__store_copy_tables[i].name);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    tq_free(seen);
}

static void copy_sqlite_to_sqlite(void **state)
{
    struct fixture *f = *state;
    struct tq_audit_options opt = {.no_thread = true};
    struct tq_audit_log *log = NULL;
    struct progress p = {0};
    struct tq_err err = {0};
    char *note = NULL;
    uint64_t n_src = 0, n_cpy = 0;

    populate(f, f->from);
    /* Every table has rows to copy. */
    for (size_t i = 0; i < tq__store_copy_n_tables; i++) {
        char sql[128];

        snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\"", tq__store_copy_tables[i].name);
        if (sql_count(f->src, sql) == 0)
            fail_msg("the populated store has no row in %s", tq__store_copy_tables[i].name);
    }
    must(tq_store_copy(f->from, f->to, on_table, &p, &err), &err, "copy");
    assert_int_equal(p.tables, tq__store_copy_n_tables);
    assert_int_equal(p.rows, total_rows(f->src));
    assert_same_rows(f->src, f->dst, true);
    /* NULLs stay NULL: the partner without a URL, the token without a label, the alarm. */
    assert_int_equal(sql_count(f->dst, "SELECT count(*) FROM partners WHERE taxii_url IS NULL "
                                       "AND cert_sha256 IS NULL AND name = 'charlie'"),
                     1);
    assert_int_equal(sql_count(f->dst, "SELECT count(*) FROM tokens WHERE label IS NULL"), 1);
    assert_int_equal(sql_count(f->dst, "SELECT count(*) FROM audit_alarms WHERE old_note IS NULL "
                                       "AND proof IS NULL"),
                     1);
    assert_same_log(f, f->from, f->to);

    /* The node runs on the copy: it grows as the source would, keys after the copied ones. */
    put(f->from, COLL_A, 300, 2, 6000000, NULL, "ab");
    put(f->to, COLL_A, 300, 2, 6000000, NULL, "ab");
    must(tq_store_audit_size(f->from, &n_src, &err), &err, "size");
    must(tq_store_audit_size(f->to, &n_cpy, &err), &err, "size");
    assert_int_equal(n_cpy, n_src);
    assert_int_equal(sql_count(f->dst, "SELECT max(rid) FROM objects"),
                     sql_count(f->src, "SELECT max(rid) FROM objects"));
    must(tq_audit_log_open(f->to, &opt, &log, &err), &err, "log");
    must(tq_audit_checkpoint_sign(log, &f->signer, &note, &err), &err, "sign on the copy");
    tq_audit_log_close(log);
    tq_free(note);

    /* A store is not copied into itself. */
    assert_int_equal(tq_store_copy(f->from, f->from, NULL, NULL, &err), TQ_EINVAL);
}

static void copy_refuses_a_destination_with_rows(void **state)
{
    struct fixture *f = *state;
    struct tq_collection c = {.title = "already here"};
    struct tq_err err = {0};
    char *before, *after, *v = NULL;

    populate(f, f->from);
    snprintf(c.id, sizeof(c.id), "%s", COLL_B);
    must(tq_store_collection_add(f->to, &c, &err), &err, "collection");
    must(tq_store_meta_set(f->to, "node.identity_key", "other-key", &err), &err, "meta");
    before = dump(f->dst, true);
    assert_int_equal(tq_store_copy(f->from, f->to, NULL, NULL, &err), TQ_EEXIST);
    assert_non_null(strstr(err.msg, "not empty"));
    assert_non_null(strstr(err.msg, "collections"));
    after = dump(f->dst, true);
    assert_string_equal(before, after);
    tq_free(before);
    tq_free(after);

    /* Metadata alone is no obstacle: the source's values win, the destination's others stay. */
    tq_store_close(f->to);
    unlink(f->back);
    f->to = fixture_store_open(f->back);
    must(tq_store_meta_set(f->to, "node.identity_key", "other-key", &err), &err, "meta");
    must(tq_store_meta_set(f->to, "destination.only", "kept", &err), &err, "meta");
    must(tq_store_copy(f->from, f->to, NULL, NULL, &err), &err, "copy over metadata");
    must(tq_store_meta_get(f->to, "node.identity_key", &v, &err), &err, "meta get");
    assert_string_equal(v, "source-key");
    tq_free(v);
    must(tq_store_meta_get(f->to, "destination.only", &v, &err), &err, "meta get");
    assert_string_equal(v, "kept");
    tq_free(v);
    assert_same_rows(f->src, f->back, false);
}

/*
 * Copy with a trigger of the destination's database in the way (created, then dropped): the copy
 * fails with want, err naming what, and the destination's rows are still empty.
 */
static void copy_fails_with_trigger(struct fixture *f, const char *trigger, const char *name,
                                    tq_rc want, const char *what, const char *empty)
{
    struct tq_err err = {0};
    char drop[64], *now;

    sql_exec(f->dst, trigger);
    assert_int_equal(tq_store_copy(f->from, f->to, NULL, NULL, &err), want);
    if (!strstr(err.msg, what))
        fail_msg("'%s' does not name %s", err.msg, what);
    now = dump(f->dst, true);
    assert_string_equal(now, empty);
    tq_free(now);
    snprintf(drop, sizeof(drop), "DROP TRIGGER %s", name);
    sql_exec(f->dst, drop);
}

/* A copy stopped after any table, or failing in the middle of one, leaves nothing behind. */
static void copy_failure_leaves_destination_empty(void **state)
{
    struct fixture *f = *state;
    struct tq_err err = {0};
    char *empty, *now;

    populate(f, f->from);
    empty = dump(f->dst, true);
    for (size_t k = 1; k <= tq__store_copy_n_tables; k++) {
        struct progress p = {.stop_after = k};

        assert_int_equal(tq_store_copy(f->from, f->to, on_table, &p, &err), TQ_EIO);
        assert_non_null(strstr(err.msg, tq__store_copy_tables[k - 1].name));
        now = dump(f->dst, true);
        assert_string_equal(now, empty);
        tq_free(now);
    }
    /* The destination's database refuses a row in the middle of the audit log. */
    copy_fails_with_trigger(f,
                            "CREATE TRIGGER fail_leaf BEFORE INSERT ON audit_leaves WHEN "
                            "new.idx = 5 BEGIN SELECT RAISE(ABORT, 'forced failure'); END",
                            "fail_leaf", TQ_ESTORE, "audit_leaves", empty);
    /* Verification: a leaf hash changed on the way fails the copy, nothing is kept... */
    copy_fails_with_trigger(f,
                            "CREATE TRIGGER bad_leaf AFTER INSERT ON audit_leaves WHEN new.idx = 7 "
                            "BEGIN UPDATE audit_leaves SET leaf_hash = zeroblob(32) "
                            "WHERE idx = 7; END",
                            "bad_leaf", TQ_EINTEGRITY, "leaf 0", empty);
    /* ... and so does a row count that differs (a row more in a table copied before). */
    copy_fails_with_trigger(f,
                            "CREATE TRIGGER extra_row AFTER INSERT ON users WHEN new.name = 'bob' "
                            "BEGIN INSERT INTO status VALUES ('extra', 'x', 0, '{}'); END",
                            "extra_row", TQ_EINTEGRITY, "table status", empty);
    /* Left empty, the destination takes the copy. */
    must(tq_store_copy(f->from, f->to, NULL, NULL, &err), &err, "copy after failures");
    assert_same_rows(f->src, f->dst, true);
    tq_free(empty);
}

/* Versions stored while the copy runs are not half copied: the copy is the snapshot's. */
static void copy_reads_one_snapshot(void **state)
{
    struct fixture *f = *state;
    struct progress p = {.stop_write = "objects"};
    struct tq_err err = {0};
    char *before;

    populate(f, f->from);
    before = dump(f->src, true);
    p.writer = fixture_store_open(f->src); /* another handle: the copy holds a connection of from */
    must(tq_store_copy(f->from, f->to, on_table, &p, &err), &err, "copy while writing");
    tq_store_close(p.writer);
    assert_int_equal(sql_count(f->src, "SELECT count(*) FROM objects WHERE id LIKE "
                                       "'indicator--00000384%'"),
                     1);
    {
        char *copied = dump(f->dst, true);

        assert_string_equal(copied, before);
        tq_free(copied);
    }
    tq_free(before);
}

/*
 * SQLite -> PostgreSQL -> SQLite when a PostgreSQL database is given: every row comes back as it
 * left, and the PostgreSQL store's log has the source's root and checkpoints.
 */
static void copy_through_postgres(void **state)
{
    struct fixture *f = *state;
    struct tq_store_options opt = {.must_exist = false};
    struct tq_store *pg = NULL, *back = NULL;
    struct tq_err err = {0};
    char uri[256];

    backend_target(f->dir, uri, sizeof(uri)); /* a new database on the test cluster */
    populate(f, f->from);
    must(tq_store_open(uri, &opt, &pg, &err), &err, "open the PostgreSQL destination");
    must(tq_store_copy(f->from, pg, NULL, NULL, &err), &err, "copy SQLite -> PostgreSQL");
    assert_same_log(f, f->from, pg);
    back = fixture_store_open(f->back);
    must(tq_store_copy(pg, back, NULL, NULL, &err), &err, "copy PostgreSQL -> SQLite");
    /* The copy takes new keys past the copied ones (copy_finish moved the sequences). */
    {
        struct tq_collection c = {.id = "99999999-9999-4999-8999-999999999999", .title = "new"};

        must(tq_store_collection_add(pg, &c, &err), &err, "add a collection to the copy");
    }
    tq_store_close(back);
    tq_store_close(pg);
    backend_target_drop(f->dir);
    assert_same_rows(f->src, f->back, true);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(copy_list_covers_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(copy_sqlite_to_sqlite, setup, teardown),
        cmocka_unit_test_setup_teardown(copy_refuses_a_destination_with_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(copy_failure_leaves_destination_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(copy_reads_one_snapshot, setup, teardown),
    };
    /* With TQ_TEST_STORE=postgres (tests/unit/backend.h): through a PostgreSQL database. */
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test_setup_teardown(copy_through_postgres, setup, teardown),
    };
    int failed;

    if (sodium_init() < 0)
        return 1;
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    failed = cmocka_run_group_tests_name("store_copy", tests, NULL, NULL);
    if (!backend_pg()) {
        print_message("store copy through PostgreSQL: run with TQ_TEST_STORE=postgres\n");
        return failed;
    }
    return failed + cmocka_run_group_tests_name("store_copy [postgres]", pg_tests, NULL, NULL);
}
