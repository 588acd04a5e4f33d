/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_store.c - the store contract, on SQLite and (TQ_TEST_STORE=postgres) PostgreSQL.
 *
 * Every public store function, every TAXII filter alone and combined, keyset pagination against
 * a brute-force model on random data (seed printed; TQ_TEST_SEED replays one), date_added
 * monotonicity across reopen and between concurrent writers, and crash safety: a child process
 * imports in a loop and is killed with SIGKILL at a random moment, after which every
 * acknowledged batch must be present and PRAGMA integrity_check must pass.
 *
 * Each test works in its own temporary directory (and, on PostgreSQL, its own database) and
 * removes it (tests/unit/backend.h). A few tests are of the SQLite driver alone (WAL, PRAGMA
 * user_version migrations); they are named when the suite runs on PostgreSQL. Run one test by
 * name with `test_store NAME` (a cmocka filter pattern).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "tansiq/note.h"
#include "tansiq/store.h"
#include "store/store.h" /* TQ_STORE_SCHEMA_VERSION */
#include "backend.h"
#include "fixture.h"

/* ---- helpers -------------------------------------------------------------------------- */

#define COLL_ID "11111111-2222-4333-8444-555555555555"
#define COLL2_ID "66666666-7777-4888-8999-aaaaaaaaaaaa"

struct fixture {
    char dir[64];
    char path[256]; /* the store's URI */
    struct tq_store *store;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64*: small, fast and reproducible from the printed seed. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static size_t rnd_below(size_t n)
{
    return (size_t)(rnd() % n);
}

static void tmpdir_make(char dir[64])
{
    snprintf(dir, 64, "/tmp/tq-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static struct tq_store *open_store(const char *path, unsigned pool)
{
    struct tq_store_options opt = {.pool_size = pool};
    struct tq_store *s = NULL;
    struct tq_err err = {0};
    tq_rc rc = tq_store_open(path, &opt, &s, &err);

    if (rc)
        fail_msg("open %s: %s", path, err.msg);
    return s;
}

static void add_collection(struct tq_store *s, const char *id, const char *alias, const char *title)
{
    struct tq_collection c = {0};
    struct tq_err err = {0};

    snprintf(c.id, sizeof(c.id), "%s", id);
    c.alias = (char *)alias;
    c.title = (char *)title;
    if (tq_store_collection_add(s, &c, &err))
        fail_msg("collection add: %s", err.msg);
}

static int setup(void **state)
{
    struct fixture *f = tq_xcalloc(1, sizeof(*f));

    tmpdir_make(f->dir);
    backend_target(f->dir, f->path, sizeof(f->path));
    f->store = open_store(f->path, 4);
    add_collection(f->store, COLL_ID, "main", "Main collection");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tq_store_close(f->store);
    backend_target_drop(f->dir);
    tmpdir_remove(f->dir);
    tq_free(f);
    return 0;
}

/* A test object; free with obj_free. */
static void obj_make(struct tq_stix_object *o, const char *type, unsigned n, int64_t version_us,
                     const char *spec)
{
    char json[512];
    int len;

    memset(o, 0, sizeof(*o));
    snprintf(o->type, sizeof(o->type), "%s", type);
    snprintf(o->id, sizeof(o->id), "%s--%08x-0000-4000-8000-000000000000", type, n);
    snprintf(o->spec_version, sizeof(o->spec_version), "%s", spec ? spec : "2.1");
    o->version_us = version_us;
    o->modified_us = version_us;
    o->created_us = version_us;
    len = snprintf(json, sizeof(json),
                   "{\"type\":\"%s\",\"id\":\"%s\",\"spec_version\":\"%s\",\"v\":%" PRId64 "}",
                   o->type, o->id, o->spec_version, version_us);
    o->json = tq_xstrndup(json, (size_t)len);
    o->json_len = (size_t)len;
}

static void obj_free(struct tq_stix_object *o)
{
    tq_free(o->json);
    o->json = NULL;
}

static tq_rc put1(struct tq_store *s, const char *coll, const char *type, unsigned n, int64_t v,
                  enum tq_put_result *res, int64_t *da)
{
    struct tq_stix_object o;
    struct tq_err err = {0};
    tq_rc rc;

    obj_make(&o, type, n, v, NULL);
    rc = tq_store_put(s, coll, &o, 1, res, da, &err);
    obj_free(&o);
    return rc;
}

#define MAX_ROWS 4096

struct row_copy {
    char id[TQ_STIX_ID_MAX];
    int64_t date_added_us;
    int64_t version_us;
    char spec_version[8];
    bool had_json;
    char json_head[16];
};

struct collect {
    struct row_copy rows[MAX_ROWS];
    size_t n;
    size_t stop_after; /* 0: never */
};

static tq_rc collect_cb(void *ud, const struct tq_store_row *row)
{
    struct collect *c = ud;
    struct row_copy *r;

    if (c->stop_after && c->n == c->stop_after)
        return TQ_EIO;
    assert_true(c->n < MAX_ROWS);
    r = &c->rows[c->n++];
    snprintf(r->id, sizeof(r->id), "%s", row->id);
    r->date_added_us = row->date_added_us;
    r->version_us = row->version_us;
    snprintf(r->spec_version, sizeof(r->spec_version), "%s", row->spec_version);
    r->had_json = row->json != NULL;
    if (row->json) {
        assert_int_equal(strlen(row->json), row->json_len);
        snprintf(r->json_head, sizeof(r->json_head), "%s", row->json);
    }
    return TQ_OK;
}

/* Run q over every page (limit as given), appending all rows to out. Returns the page count. */
static size_t query_all(struct tq_store *s, struct tq_store_query q, bool with_json,
                        struct collect *out)
{
    struct tq_store_page_info info;
    struct tq_err err = {0};
    size_t pages = 0, before;

    out->n = 0;
    for (;;) {
        before = out->n;
        if (tq_store_query(s, &q, with_json, collect_cb, out, &info, &err))
            fail_msg("query: %s", err.msg);
        pages++;
        assert_int_equal(info.n, out->n - before);
        assert_true(info.n <= q.limit);
        if (info.n) {
            assert_int_equal(info.first_date_added_us, out->rows[before].date_added_us);
            assert_int_equal(info.last_date_added_us, out->rows[out->n - 1].date_added_us);
            assert_int_equal(info.next.date_added_us, out->rows[out->n - 1].date_added_us);
            assert_string_equal(info.next.id, out->rows[out->n - 1].id);
        } else {
            assert_int_equal(info.first_date_added_us, -1);
            assert_false(info.more);
        }
        if (!info.more)
            break;
        assert_int_equal(info.n, q.limit);
        q.has_cursor = true;
        q.cursor = info.next;
    }
    return pages;
}

static struct tq_store_query base_query(void)
{
    struct tq_store_query q = {0};

    q.collection_id = COLL_ID;
    q.limit = 1000;
    return q;
}

/* ---- open, URI forms, schema version -------------------------------------------------- */

/*
 * PostgreSQL URIs are refused before any connection when the build lacks libpq, when libpq
 * cannot read them, or when they hold a password (which would show in ps, the configuration
 * and logs: it belongs in a password file).
 */
static void open_postgres_uri_refusals(void **state)
{
    struct tq_store *s = NULL;
    struct tq_err err = {0};

    (void)state;
#if TQ_HAVE_POSTGRES
    assert_int_equal(tq_store_open("postgresql://u:secret@db/tansiq", NULL, &s, &err), TQ_ECONFIG);
    assert_non_null(strstr(err.msg, "password"));
    assert_null(strstr(err.msg, "secret"));
    assert_int_equal(tq_store_open("postgres://db/tansiq?password=secret", NULL, &s, &err),
                     TQ_ECONFIG);
    assert_null(strstr(err.msg, "secret"));
    assert_int_equal(tq_store_open("postgresql://db/tansiq?nonsense=1", NULL, &s, &err),
                     TQ_ECONFIG);
    /* The same password in the other forms a URI allows: percent-encoded, another letter case
     * of the key (not a libpq key: refused as unknown), repeated, behind a passfile. */
    assert_int_equal(tq_store_open("postgresql://u:%73ecret@db/tansiq", NULL, &s, &err),
                     TQ_ECONFIG);
    assert_null(strstr(err.msg, "secret"));
    assert_int_equal(tq_store_open("postgresql://db/tansiq?PASSWORD=secret", NULL, &s, &err),
                     TQ_ECONFIG);
    assert_null(strstr(err.msg, "secret"));
    assert_int_equal(
        tq_store_open("postgresql://db/tansiq?passfile=/x&password=secret", NULL, &s, &err),
        TQ_ECONFIG);
    assert_null(strstr(err.msg, "secret"));
#else
    assert_int_equal(tq_store_open("postgres://db/tansiq", NULL, &s, &err), TQ_ENOTSUP);
    assert_int_equal(tq_store_open("postgresql://db/tansiq", NULL, &s, &err), TQ_ENOTSUP);
#endif
    assert_null(s);
}

/* A store opened read-only (a replica) reads, and refuses writes with TQ_EREADONLY. */
static void open_read_only_refuses_writes(void **state)
{
    struct fixture *f = *state;
    struct tq_store_options ro = {.read_only = true, .must_exist = true};
    struct tq_store *s = NULL;
    struct tq_err err = {0};
    char *v = NULL;

    assert_int_equal(tq_store_meta_set(f->store, "node", "alpha", &err), TQ_OK);
    assert_int_equal(tq_store_open(f->path, &ro, &s, &err), TQ_OK);
    assert_int_equal(tq_store_meta_get(s, "node", &v, &err), TQ_OK);
    assert_string_equal(v, "alpha");
    tq_free(v);
    assert_int_equal(tq_store_meta_set(s, "node", "beta", &err), TQ_EREADONLY);
    tq_store_close(s);
}

static void open_uri_forms(void **state)
{
    struct fixture *f = *state;
    struct tq_store *s = NULL;
    struct tq_err err = {0};
    char uri[300], *v = NULL;
    sqlite3 *db;

    assert_int_equal(tq_store_open("ftp://x/y", NULL, &s, &err), TQ_EINVAL);
    assert_int_equal(tq_store_open("", NULL, &s, &err), TQ_EINVAL);
    assert_int_equal(tq_store_open("sqlite:", NULL, &s, &err), TQ_EINVAL);
    assert_int_equal(tq_store_open(":memory:", NULL, &s, &err), TQ_EINVAL);
    assert_null(s);
    tq_store_close(NULL);

    /* Same file through "sqlite:" and "sqlite://" spellings, shared with the fixture. */
    assert_int_equal(tq_store_meta_set(f->store, "node", "alpha", &err), TQ_OK);
    snprintf(uri, sizeof(uri), "sqlite:%s", f->path);
    assert_int_equal(tq_store_open(uri, NULL, &s, &err), TQ_OK);
    assert_int_equal(tq_store_meta_get(s, "node", &v, &err), TQ_OK);
    assert_string_equal(v, "alpha");
    tq_free(v);
    tq_store_close(s);
    s = NULL;
    snprintf(uri, sizeof(uri), "sqlite://%s", f->path);
    assert_int_equal(tq_store_open(uri, NULL, &s, &err), TQ_OK);
    tq_store_close(s);
    s = NULL;

    /* A database from a newer build is refused, not silently used. */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(tq_store_open(f->path, NULL, &s, &err), TQ_ESTORE);
    assert_non_null(strstr(err.msg, "newer"));
    assert_null(s);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void open_sets_wal_and_schema(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db;
    sqlite3_stmt *st;

    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), TQ_STORE_SCHEMA_VERSION);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- meta and collections ------------------------------------------------------------- */

static void meta_get_set(void **state)
{
    struct fixture *f = *state;
    struct tq_err err = {0};
    char *v = NULL;

    assert_int_equal(tq_store_meta_get(f->store, "k", &v, &err), TQ_ENOTFOUND);
    assert_null(v);
    assert_int_equal(tq_store_meta_set(f->store, "k", "one", &err), TQ_OK);
    assert_int_equal(tq_store_meta_set(f->store, "k", "two", &err), TQ_OK);
    assert_int_equal(tq_store_meta_get(f->store, "k", &v, &err), TQ_OK);
    assert_string_equal(v, "two");
    tq_free(v);
    assert_int_equal(tq_store_meta_set(f->store, NULL, "x", &err), TQ_EINVAL);
}

static void collections_add_get_list(void **state)
{
    struct fixture *f = *state;
    struct tq_collection c = {0}, got, *list = NULL;
    struct tq_err err = {0};
    size_t n = 0;

    add_collection(f->store, COLL2_ID, NULL, "Another");
    /* Duplicate id, duplicate alias. */
    snprintf(c.id, sizeof(c.id), "%s", COLL2_ID);
    c.title = "dup";
    assert_int_equal(tq_store_collection_add(f->store, &c, &err), TQ_EEXIST);
    snprintf(c.id, sizeof(c.id), "%s", "0fffffff-2222-4333-8444-555555555555");
    c.alias = "main";
    assert_int_equal(tq_store_collection_add(f->store, &c, &err), TQ_EEXIST);
    /* Malformed id, alias shaped like a UUID, missing title. */
    snprintf(c.id, sizeof(c.id), "%s", "not-a-uuid");
    c.alias = NULL;
    assert_int_equal(tq_store_collection_add(f->store, &c, &err), TQ_EINVAL);
    snprintf(c.id, sizeof(c.id), "%s", "0fffffff-2222-4333-8444-555555555555");
    c.alias = COLL_ID;
    assert_int_equal(tq_store_collection_add(f->store, &c, &err), TQ_EINVAL);
    c.alias = NULL;
    c.title = NULL;
    assert_int_equal(tq_store_collection_add(f->store, &c, &err), TQ_EINVAL);

    assert_int_equal(tq_store_collection_get(f->store, "main", &got, &err), TQ_OK);
    assert_string_equal(got.id, COLL_ID);
    assert_string_equal(got.alias, "main");
    assert_string_equal(got.title, "Main collection");
    assert_null(got.description);
    tq_collection_cleanup(&got);
    assert_int_equal(tq_store_collection_get(f->store, COLL2_ID, &got, &err), TQ_OK);
    assert_null(got.alias);
    assert_string_equal(got.title, "Another");
    tq_collection_cleanup(&got);
    assert_int_equal(tq_store_collection_get(f->store, "nope", &got, &err), TQ_ENOTFOUND);

    assert_int_equal(tq_store_collection_list(f->store, &list, &n, &err), TQ_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].title, "Another"); /* ordered by title */
    assert_string_equal(list[1].title, "Main collection");
    tq_collection_list_free(list, n);
}

/* ---- put ------------------------------------------------------------------------------ */

static void put_stored_and_present(void **state)
{
    struct fixture *f = *state;
    struct tq_stix_object o[4];
    enum tq_put_result res[4];
    int64_t da[4], da2[4];
    struct tq_err err = {0};
    uint64_t count = 0;
    size_t i;

    obj_make(&o[0], "indicator", 1, 1000, NULL);
    obj_make(&o[1], "indicator", 2, 1000, NULL);
    obj_make(&o[2], "ipv4-addr", 3, -1, NULL);
    obj_make(&o[3], "indicator", 1, 1000, NULL); /* same as o[0] inside the batch */
    assert_int_equal(tq_store_put(f->store, COLL_ID, o, 4, res, da, &err), TQ_OK);
    assert_int_equal(res[0], TQ_PUT_STORED);
    assert_int_equal(res[1], TQ_PUT_STORED);
    assert_int_equal(res[2], TQ_PUT_STORED);
    assert_int_equal(res[3], TQ_PUT_PRESENT);
    assert_true(da[0] < da[1] && da[1] < da[2]);
    assert_int_equal(da[3], da[0]);

    /* Re-putting by alias changes nothing and reports the stored date_added. */
    assert_int_equal(tq_store_put(f->store, "main", o, 3, res, da2, &err), TQ_OK);
    for (i = 0; i < 3; i++) {
        assert_int_equal(res[i], TQ_PUT_PRESENT);
        assert_int_equal(da2[i], da[i]);
    }
    assert_int_equal(tq_store_count(f->store, COLL_ID, &count, &err), TQ_OK);
    assert_int_equal(count, 3);

    /* NULL result arrays are allowed; an empty batch is a no-op. */
    assert_int_equal(tq_store_put(f->store, COLL_ID, o, 1, NULL, NULL, &err), TQ_OK);
    assert_int_equal(tq_store_put(f->store, COLL_ID, o, 0, NULL, NULL, &err), TQ_OK);

    /* Unknown collection. */
    assert_int_equal(tq_store_put(f->store, COLL2_ID, o, 1, res, da, &err), TQ_ENOTFOUND);

    /* One bad object refuses the whole batch. */
    tq_free(o[3].json);
    obj_make(&o[3], "indicator", 9, 5, NULL);
    o[1].id[0] = '\0';
    assert_int_equal(tq_store_put(f->store, COLL_ID, &o[1], 3, res, da, &err), TQ_EINVAL);
    assert_int_equal(tq_store_count(f->store, NULL, &count, &err), TQ_OK);
    assert_int_equal(count, 3);
    for (i = 0; i < 4; i++)
        obj_free(&o[i]);
}

static void put_is_atomic_on_backend_failure(void **state)
{
    struct fixture *f = *state;
    struct tq_stix_object o[3];
    struct tq_err err = {0};
    uint64_t count = 0;
    size_t i;

    /*
     * A trigger makes the third insert fail inside the transaction: the first two must not
     * survive, and the error must come back as TQ_ESTORE with the database's message.
     */
    assert_int_equal(backend_exec(f->dir, f->path,
                                  "CREATE TRIGGER t_fail BEFORE INSERT ON objects "
                                  "WHEN NEW.type = 'malware' BEGIN "
                                  "SELECT RAISE(ABORT, 'injected failure'); END",
                                  "CREATE FUNCTION t_fail() RETURNS trigger LANGUAGE plpgsql AS "
                                  "$$ BEGIN IF NEW.type = 'malware' THEN "
                                  "RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;"
                                  "CREATE TRIGGER t_fail BEFORE INSERT ON objects "
                                  "FOR EACH ROW EXECUTE FUNCTION t_fail()",
                                  NULL, 0),
                     0);
    obj_make(&o[0], "indicator", 1, 10, NULL);
    obj_make(&o[1], "indicator", 2, 10, NULL);
    obj_make(&o[2], "malware", 3, 10, NULL);
    /* The pooled connections cached their statements; a schema change re-prepares them. */
    assert_int_equal(tq_store_put(f->store, COLL_ID, o, 3, NULL, NULL, &err), TQ_ESTORE);
    assert_non_null(strstr(err.msg, "injected failure"));
    assert_int_equal(tq_store_count(f->store, COLL_ID, &count, &err), TQ_OK);
    assert_int_equal(count, 0);
    assert_int_equal(backend_exec(f->dir, f->path, "DROP TRIGGER t_fail",
                                  "DROP TRIGGER t_fail ON objects", NULL, 0),
                     0);
    assert_int_equal(tq_store_put(f->store, COLL_ID, o, 3, NULL, NULL, &err), TQ_OK);
    assert_int_equal(tq_store_count(f->store, COLL_ID, &count, &err), TQ_OK);
    assert_int_equal(count, 3);
    for (i = 0; i < 3; i++)
        obj_free(&o[i]);
}

/* Versions arrive out of order; first/last must follow version order, not arrival order. */
static void put_maintains_first_last(void **state)
{
    struct fixture *f = *state;
    static const int64_t arrival[] = {200, 100, 300, 50, 250};
    struct tq_store_query q = base_query();
    struct collect *c = tq_xcalloc(1, sizeof(*c));
    size_t i;

    for (i = 0; i < 5; i++)
        assert_int_equal(put1(f->store, COLL_ID, "malware", 7, arrival[i], NULL, NULL), TQ_OK);

    q.version_flags = TQ_MATCH_LAST;
    query_all(f->store, q, true, c);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->rows[0].version_us, 300);
    q.version_flags = TQ_MATCH_FIRST;
    query_all(f->store, q, true, c);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->rows[0].version_us, 50);
    q.version_flags = TQ_MATCH_FIRST | TQ_MATCH_LAST;
    query_all(f->store, q, true, c);
    assert_int_equal(c->n, 2);
    /* Ordered by date_added: 300 arrived before 50. */
    assert_int_equal(c->rows[0].version_us, 300);
    assert_int_equal(c->rows[1].version_us, 50);
    q.version_flags = TQ_MATCH_ALL | TQ_MATCH_FIRST;
    query_all(f->store, q, true, c);
    assert_int_equal(c->n, 5);
    for (i = 0; i < 5; i++)
        assert_int_equal(c->rows[i].version_us, arrival[i]);
    tq_free(c);
}

/* ---- query filters -------------------------------------------------------------------- */

/*
 * The fixed data set of the filter tests, in arrival order:
 *   indicator 1 v10, indicator 1 v20, malware 2 v10, tool 3 v5 (spec 2.0), indicator 1 v30,
 *   ipv4-addr 4 (unversioned), malware 2 v40
 */
static void load_filter_set(struct tq_store *s)
{
    static const struct {
        const char *type;
        unsigned n;
        int64_t v;
        const char *spec;
    } set[] = {{"indicator", 1, 10, NULL}, {"indicator", 1, 20, NULL}, {"malware", 2, 10, NULL},
               {"tool", 3, 5, "2.0"},      {"indicator", 1, 30, NULL}, {"ipv4-addr", 4, -1, NULL},
               {"malware", 2, 40, NULL}};
    struct tq_stix_object o;
    struct tq_err err = {0};
    size_t i;

    for (i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
        obj_make(&o, set[i].type, set[i].n, set[i].v, set[i].spec);
        if (tq_store_put(s, COLL_ID, &o, 1, NULL, NULL, &err))
            fail_msg("put: %s", err.msg);
        obj_free(&o);
    }
}

/* Run q and compare "type:version" of each row with the expected list. */
static void expect_rows(struct tq_store *s, struct tq_store_query q, const char *expected)
{
    struct collect *c = tq_xcalloc(1, sizeof(*c));
    char got[1024] = "";
    size_t i, pos = 0;

    query_all(s, q, false, c);
    for (i = 0; i < c->n; i++) {
        const char *dash = strstr(c->rows[i].id, "--");
        int tlen = dash ? (int)(dash - c->rows[i].id) : 0;

        pos += (size_t)snprintf(got + pos, sizeof(got) - pos, "%s%.*s:%" PRId64, i ? " " : "", tlen,
                                c->rows[i].id, c->rows[i].version_us);
        assert_true(pos < sizeof(got));
    }
    if (strcmp(got, expected) != 0)
        fail_msg("expected [%s] got [%s]", expected, got);
    tq_free(c);
}

static void query_filters(void **state)
{
    struct fixture *f = *state;
    struct tq_store_query q;
    struct tq_str ids[2], types[2], specs[1];
    int64_t times[2];
    struct collect *c = tq_xcalloc(1, sizeof(*c));
    char id1[TQ_STIX_ID_MAX], id2[TQ_STIX_ID_MAX];

    load_filter_set(f->store);
    snprintf(id1, sizeof(id1), "indicator--%08x-0000-4000-8000-000000000000", 1u);
    snprintf(id2, sizeof(id2), "malware--%08x-0000-4000-8000-000000000000", 2u);

    /* Default: last versions. */
    q = base_query();
    expect_rows(f->store, q, "tool:5 indicator:30 ipv4-addr:-1 malware:40");
    q.version_flags = TQ_MATCH_ALL;
    expect_rows(f->store, q,
                "indicator:10 indicator:20 malware:10 tool:5 indicator:30 ipv4-addr:-1 "
                "malware:40");
    q.version_flags = TQ_MATCH_FIRST;
    expect_rows(f->store, q, "indicator:10 malware:10 tool:5 ipv4-addr:-1");

    /* match[version] by time, alone and OR-ed with first/last. */
    times[0] = 20;
    times[1] = 10;
    q.version_flags = TQ_MATCH_TIMES;
    q.versions = times;
    q.n_versions = 2;
    expect_rows(f->store, q, "indicator:10 indicator:20 malware:10");
    q.version_flags = TQ_MATCH_TIMES | TQ_MATCH_LAST;
    expect_rows(f->store, q,
                "indicator:10 indicator:20 malware:10 tool:5 indicator:30 ipv4-addr:-1 "
                "malware:40");
    q.n_versions = 1;
    q.version_flags = TQ_MATCH_TIMES | TQ_MATCH_FIRST;
    expect_rows(f->store, q, "indicator:10 indicator:20 malware:10 tool:5 ipv4-addr:-1");

    /* match[type], OR inside, AND with versions. */
    q = base_query();
    types[0] = TQ_STR("malware");
    types[1] = TQ_STR("tool");
    q.types = types;
    q.n_types = 2;
    expect_rows(f->store, q, "tool:5 malware:40");
    q.version_flags = TQ_MATCH_ALL;
    expect_rows(f->store, q, "malware:10 tool:5 malware:40");

    /* match[id], OR inside, AND with type. */
    q = base_query();
    ids[0] = tq_str_c(id1);
    ids[1] = tq_str_c(id2);
    q.ids = ids;
    q.n_ids = 2;
    expect_rows(f->store, q, "indicator:30 malware:40");
    q.types = types;
    q.n_types = 1;
    expect_rows(f->store, q, "malware:40");
    q.version_flags = TQ_MATCH_ALL;
    expect_rows(f->store, q, "malware:10 malware:40");

    /* match[spec_version]. */
    q = base_query();
    specs[0] = TQ_STR("2.0");
    q.spec_versions = specs;
    q.n_spec_versions = 1;
    expect_rows(f->store, q, "tool:5");
    specs[0] = TQ_STR("2.1");
    q.version_flags = TQ_MATCH_FIRST;
    expect_rows(f->store, q, "indicator:10 malware:10 ipv4-addr:-1");

    /* object_id (object and versions routes). */
    q = base_query();
    q.object_id = id1;
    expect_rows(f->store, q, "indicator:30");
    q.version_flags = TQ_MATCH_ALL;
    expect_rows(f->store, q, "indicator:10 indicator:20 indicator:30");
    q.object_id = "indicator--ffffffff-0000-4000-8000-000000000000";
    expect_rows(f->store, q, "");

    /* added_after is exclusive. */
    q = base_query();
    q.version_flags = TQ_MATCH_ALL;
    query_all(f->store, q, false, c);
    assert_int_equal(c->n, 7);
    q.has_added_after = true;
    q.added_after_us = c->rows[2].date_added_us;
    expect_rows(f->store, q, "tool:5 indicator:30 ipv4-addr:-1 malware:40");
    q.version_flags = 0;
    q.object_id = id1;
    expect_rows(f->store, q, "indicator:30");

    /* added_after and cursor together: the later bound wins. */
    q = base_query();
    q.version_flags = TQ_MATCH_ALL;
    q.has_added_after = true;
    q.added_after_us = c->rows[4].date_added_us;
    q.has_cursor = true;
    q.cursor.date_added_us = c->rows[1].date_added_us;
    snprintf(q.cursor.id, sizeof(q.cursor.id), "%s", c->rows[1].id);
    expect_rows(f->store, q, "ipv4-addr:-1 malware:40");
    q.added_after_us = c->rows[0].date_added_us;
    expect_rows(f->store, q, "malware:10 tool:5 indicator:30 ipv4-addr:-1 malware:40");

    /* Unknown collection, too many values, limit 0. */
    {
        struct tq_store_page_info info;
        struct tq_err err = {0};
        struct tq_str many[TQ_QUERY_MAX_LIST + 1];
        size_t i;

        q = base_query();
        q.collection_id = COLL2_ID;
        assert_int_equal(tq_store_query(f->store, &q, true, collect_cb, c, &info, &err),
                         TQ_ENOTFOUND);
        q = base_query();
        for (i = 0; i <= TQ_QUERY_MAX_LIST; i++)
            many[i] = TQ_STR("indicator");
        q.types = many;
        q.n_types = TQ_QUERY_MAX_LIST + 1;
        assert_int_equal(tq_store_query(f->store, &q, true, collect_cb, c, &info, &err), TQ_EINVAL);
        q.n_types = TQ_QUERY_MAX_LIST; /* the maximum itself is fine */
        c->n = 0;
        assert_int_equal(tq_store_query(f->store, &q, true, collect_cb, c, &info, &err), TQ_OK);
        assert_int_equal(info.n, 1);
        q = base_query();
        q.limit = 0;
        assert_int_equal(tq_store_query(f->store, &q, true, collect_cb, c, &info, &err), TQ_EINVAL);
        q.limit = 1;
        q.version_flags = TQ_MATCH_TIMES; /* by time without any time */
        assert_int_equal(tq_store_query(f->store, &q, true, collect_cb, c, &info, &err), TQ_EINVAL);
    }
    tq_free(c);
}

static void query_json_and_paging(void **state)
{
    struct fixture *f = *state;
    struct tq_store_query q = base_query();
    struct tq_store_page_info info;
    struct collect *c = tq_xcalloc(1, sizeof(*c));
    struct tq_err err = {0};
    size_t pages;

    load_filter_set(f->store);
    q.version_flags = TQ_MATCH_ALL;
    query_all(f->store, q, true, c);
    assert_true(c->rows[0].had_json);
    assert_string_equal(c->rows[0].json_head, "{\"type\":\"indica");
    query_all(f->store, q, false, c);
    assert_false(c->rows[0].had_json);

    /* limit 3 over 7 rows: pages of 3, 3, 1; limit 7: one page with more == false. */
    q.limit = 3;
    pages = query_all(f->store, q, false, c);
    assert_int_equal(pages, 3);
    assert_int_equal(c->n, 7);
    q.limit = 7;
    pages = query_all(f->store, q, false, c);
    assert_int_equal(pages, 1);

    /* An empty collection page: n == 0, no ENOTFOUND. */
    add_collection(f->store, COLL2_ID, NULL, "empty");
    q.collection_id = COLL2_ID;
    c->n = 0;
    assert_int_equal(tq_store_query(f->store, &q, true, collect_cb, c, &info, &err), TQ_OK);
    assert_int_equal(info.n, 0);
    assert_false(info.more);
    assert_int_equal(info.first_date_added_us, -1);
    assert_int_equal(info.last_date_added_us, -1);

    /* A callback error stops the query and is returned. */
    q.collection_id = COLL_ID;
    c->n = 0;
    c->stop_after = 2;
    assert_int_equal(tq_store_query(f->store, &q, true, collect_cb, c, &info, &err), TQ_EIO);
    assert_int_equal(c->n, 2);
    tq_free(c);
}

/* ---- pagination against a brute-force model ------------------------------------------ */

#define MODEL_IDS 24
#define MODEL_MAX 1200

struct model_row {
    unsigned obj; /* index into the id table */
    int64_t version_us;
    int64_t date_added_us;
    const char *spec;
    bool live;
};

struct model {
    struct model_row rows[MODEL_MAX];
    size_t n;
    char ids[MODEL_IDS][TQ_STIX_ID_MAX];
    const char *types[MODEL_IDS];
};

static const char *const model_types[] = {"indicator", "malware", "report", "ipv4-addr"};

static bool model_is(const struct model *m, const struct model_row *r, bool want_last)
{
    size_t i;

    for (i = 0; i < m->n; i++) {
        const struct model_row *o = &m->rows[i];

        if (!o->live || o->obj != r->obj)
            continue;
        if (want_last ? o->version_us > r->version_us : o->version_us < r->version_us)
            return false;
    }
    return true;
}

static bool str_in(const char *s, const struct tq_str *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (tq_str_eq_c(v[i], s))
            return true;
    return false;
}

static bool model_match(const struct model *m, const struct model_row *r,
                        const struct tq_store_query *q, unsigned dflt)
{
    unsigned flags = q->version_flags ? q->version_flags : dflt;
    bool ok = false;
    size_t i;

    if (!r->live)
        return false;
    if (q->object_id && strcmp(q->object_id, m->ids[r->obj]) != 0)
        return false;
    if (q->has_added_after && r->date_added_us <= q->added_after_us)
        return false;
    if (q->n_ids && !str_in(m->ids[r->obj], q->ids, q->n_ids))
        return false;
    if (q->n_types && !str_in(m->types[r->obj], q->types, q->n_types))
        return false;
    if (q->n_spec_versions && !str_in(r->spec, q->spec_versions, q->n_spec_versions))
        return false;
    if (flags & TQ_MATCH_ALL)
        return true;
    if ((flags & TQ_MATCH_LAST) && model_is(m, r, true))
        ok = true;
    if ((flags & TQ_MATCH_FIRST) && model_is(m, r, false))
        ok = true;
    if (flags & TQ_MATCH_TIMES)
        for (i = 0; i < q->n_versions; i++)
            if (q->versions[i] == r->version_us)
                ok = true;
    return ok;
}

static void model_put(struct tq_store *s, struct model *m, size_t batch)
{
    struct tq_stix_object o[16];
    enum tq_put_result res[16];
    int64_t da[16];
    struct tq_err err = {0};
    size_t i, j;

    assert_true(batch <= 16);
    for (i = 0; i < batch; i++) {
        unsigned obj = (unsigned)rnd_below(MODEL_IDS);
        const char *type = m->types[obj];
        int64_t v = strcmp(type, "ipv4-addr") == 0 ? -1 : (int64_t)(1 + rnd_below(12)) * 1000;

        obj_make(&o[i], type, obj, v, rnd_below(6) == 0 ? "2.0" : "2.1");
    }
    if (tq_store_put(s, COLL_ID, o, batch, res, da, &err))
        fail_msg("put: %s", err.msg);
    for (i = 0; i < batch; i++) {
        unsigned obj = 0;
        bool present = false;

        sscanf(strstr(o[i].id, "--") + 2, "%8x", &obj);
        for (j = 0; j < m->n; j++) {
            struct model_row *r = &m->rows[j];

            if (r->live && r->obj == obj && r->version_us == o[i].version_us) {
                present = true;
                assert_int_equal(res[i], TQ_PUT_PRESENT);
                assert_int_equal(da[i], r->date_added_us);
            }
        }
        if (!present) {
            struct model_row *r = &m->rows[m->n++];

            assert_int_equal(res[i], TQ_PUT_STORED);
            assert_true(m->n < MODEL_MAX);
            r->obj = obj;
            r->version_us = o[i].version_us;
            r->date_added_us = da[i];
            r->spec = strcmp(o[i].spec_version, "2.0") == 0 ? "2.0" : "2.1";
            r->live = true;
        }
        obj_free(&o[i]);
    }
}

/* Pick random filters into q; storage for the lists lives in the caller. */
static void random_filters(struct model *m, struct tq_store_query *q, struct tq_str *ids,
                           struct tq_str *types, struct tq_str *specs, int64_t *times)
{
    size_t i, k;

    *q = base_query();
    q->limit = 1 + rnd_below(9);
    if (rnd_below(4) == 0) {
        q->object_id = m->ids[rnd_below(MODEL_IDS)];
    }
    if (rnd_below(3) == 0) {
        k = 1 + rnd_below(4);
        for (i = 0; i < k; i++)
            ids[i] = tq_str_c(m->ids[rnd_below(MODEL_IDS)]);
        q->ids = ids;
        q->n_ids = k;
    }
    if (rnd_below(3) == 0) {
        k = 1 + rnd_below(2);
        for (i = 0; i < k; i++)
            types[i] = tq_str_c(model_types[rnd_below(4)]);
        q->types = types;
        q->n_types = k;
    }
    if (rnd_below(4) == 0) {
        specs[0] = rnd_below(2) ? TQ_STR("2.1") : TQ_STR("2.0");
        q->spec_versions = specs;
        q->n_spec_versions = 1;
    }
    q->version_flags = (unsigned)rnd_below(16);
    if (q->version_flags & TQ_MATCH_TIMES) {
        k = 1 + rnd_below(3);
        for (i = 0; i < k; i++)
            times[i] = rnd_below(8) == 0 ? -1 : (int64_t)(1 + rnd_below(12)) * 1000;
        q->versions = times;
        q->n_versions = k;
    }
    if (rnd_below(3) == 0 && m->n) {
        q->has_added_after = true;
        q->added_after_us = m->rows[rnd_below(m->n)].date_added_us - (int64_t)rnd_below(2);
    }
}

static int cmp_da(const void *a, const void *b)
{
    const struct model_row *x = *(const struct model_row *const *)a;
    const struct model_row *y = *(const struct model_row *const *)b;

    return (x->date_added_us > y->date_added_us) - (x->date_added_us < y->date_added_us);
}

static void check_model_query(struct tq_store *s, struct model *m, const struct tq_store_query *q,
                              struct collect *c)
{
    const struct model_row **want = tq_xcalloc(MODEL_MAX, sizeof(*want));
    size_t n = 0, i;

    for (i = 0; i < m->n; i++)
        if (model_match(m, &m->rows[i], q, TQ_MATCH_LAST))
            want[n++] = &m->rows[i];
    qsort(want, n, sizeof(*want), cmp_da);
    query_all(s, *q, false, c);
    if (c->n != n)
        fail_msg("seed %" PRIu64 ": model %zu rows, store %zu", rng_state, n, c->n);
    for (i = 0; i < n; i++) {
        assert_string_equal(c->rows[i].id, m->ids[want[i]->obj]);
        assert_int_equal(c->rows[i].version_us, want[i]->version_us);
        assert_int_equal(c->rows[i].date_added_us, want[i]->date_added_us);
        assert_string_equal(c->rows[i].spec_version, want[i]->spec);
    }
    tq_free(want);
}

static uint64_t test_seed(void)
{
    const char *env = getenv("TQ_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid();

    if (seed == 0)
        seed = 1;
    print_message("store model seed: %" PRIu64 " (replay with TQ_TEST_SEED)\n", seed);
    return seed;
}

static void query_matches_model(void **state)
{
    struct fixture *f = *state;
    struct model *m = tq_xcalloc(1, sizeof(*m));
    struct collect *c = tq_xcalloc(1, sizeof(*c));
    struct tq_str ids[4], types[2], specs[1];
    int64_t times[3];
    struct tq_store_query q;
    struct tq_err err = {0};
    size_t round, i, j, deleted;

    rng_state = test_seed();
    for (i = 0; i < MODEL_IDS; i++) {
        m->types[i] = model_types[i % 4];
        snprintf(m->ids[i], sizeof(m->ids[i]), "%s--%08x-0000-4000-8000-000000000000", m->types[i],
                 (unsigned)i);
    }
    for (round = 0; round < 6; round++) {
        for (i = 0; i < 12; i++)
            model_put(f->store, m, 1 + rnd_below(16));
        /* A few deletes with random selectors, mirrored in the model. */
        for (i = 0; i < 3; i++) {
            random_filters(m, &q, ids, types, specs, times);
            q.object_id = m->ids[rnd_below(MODEL_IDS)];
            q.n_ids = q.n_types = 0;
            q.has_added_after = false;
            {
                bool hit[MODEL_MAX] = {0};
                size_t want = 0;
                tq_rc rc;

                for (j = 0; j < m->n; j++) {
                    hit[j] = model_match(m, &m->rows[j], &q, TQ_MATCH_ALL);
                    want += hit[j];
                }
                rc = tq_store_delete(f->store, &q, &deleted, &err);
                if (want == 0) {
                    assert_int_equal(rc, TQ_ENOTFOUND);
                } else {
                    assert_int_equal(rc, TQ_OK);
                    assert_int_equal(deleted, want);
                }
                for (j = 0; j < m->n; j++)
                    if (hit[j])
                        m->rows[j].live = false;
            }
        }
        for (i = 0; i < 60; i++) {
            random_filters(m, &q, ids, types, specs, times);
            check_model_query(f->store, m, &q, c);
        }
    }
    tq_free(m);
    tq_free(c);
}

/* ---- delete and count ----------------------------------------------------------------- */

static void delete_selectors(void **state)
{
    struct fixture *f = *state;
    struct tq_store_query q = base_query();
    struct tq_str specs[1];
    int64_t times[1];
    struct tq_err err = {0};
    size_t deleted = 0;
    uint64_t count = 0;
    char id1[TQ_STIX_ID_MAX];

    load_filter_set(f->store);
    snprintf(id1, sizeof(id1), "indicator--%08x-0000-4000-8000-000000000000", 1u);

    /* Delete the last version of indicator 1: v20 becomes last. */
    q.object_id = id1;
    q.version_flags = TQ_MATCH_LAST;
    assert_int_equal(tq_store_delete(f->store, &q, &deleted, &err), TQ_OK);
    assert_int_equal(deleted, 1);
    q = base_query();
    expect_rows(f->store, q, "indicator:20 tool:5 ipv4-addr:-1 malware:40");

    /* Delete the first: v20 is now both first and last. */
    q.object_id = id1;
    q.version_flags = TQ_MATCH_FIRST;
    assert_int_equal(tq_store_delete(f->store, &q, &deleted, &err), TQ_OK);
    q.version_flags = TQ_MATCH_FIRST;
    expect_rows(f->store, q, "indicator:20");

    /* By time, nothing matching: ENOTFOUND and nothing changes. */
    times[0] = 999;
    q.version_flags = TQ_MATCH_TIMES;
    q.versions = times;
    q.n_versions = 1;
    assert_int_equal(tq_store_delete(f->store, &q, &deleted, &err), TQ_ENOTFOUND);
    times[0] = 20;
    assert_int_equal(tq_store_delete(f->store, &q, &deleted, &err), TQ_OK);
    assert_int_equal(deleted, 1);

    /* spec_version selector, then the default (all versions). */
    q = base_query();
    q.object_id = "tool--00000003-0000-4000-8000-000000000000";
    specs[0] = TQ_STR("2.1");
    q.spec_versions = specs;
    q.n_spec_versions = 1;
    assert_int_equal(tq_store_delete(f->store, &q, &deleted, &err), TQ_ENOTFOUND);
    specs[0] = TQ_STR("2.0");
    assert_int_equal(tq_store_delete(f->store, &q, &deleted, &err), TQ_OK);
    q = base_query();
    q.object_id = "malware--00000002-0000-4000-8000-000000000000";
    assert_int_equal(tq_store_delete(f->store, &q, &deleted, &err), TQ_OK);
    assert_int_equal(deleted, 2);
    assert_int_equal(tq_store_delete(f->store, &q, &deleted, &err), TQ_ENOTFOUND);

    assert_int_equal(tq_store_count(f->store, COLL_ID, &count, &err), TQ_OK);
    assert_int_equal(count, 1); /* the ipv4-addr */
    q.object_id = NULL;
    assert_int_equal(tq_store_delete(f->store, &q, &deleted, &err), TQ_EINVAL);
    q.object_id = id1;
    q.collection_id = COLL2_ID;
    assert_int_equal(tq_store_delete(f->store, &q, &deleted, &err), TQ_ENOTFOUND);
}

static void count_per_collection(void **state)
{
    struct fixture *f = *state;
    struct tq_err err = {0};
    uint64_t count = 99;

    assert_int_equal(tq_store_count(f->store, COLL_ID, &count, &err), TQ_OK);
    assert_int_equal(count, 0);
    add_collection(f->store, COLL2_ID, "second", "Second");
    assert_int_equal(put1(f->store, COLL_ID, "indicator", 1, 1, NULL, NULL), TQ_OK);
    assert_int_equal(put1(f->store, COLL2_ID, "indicator", 1, 1, NULL, NULL), TQ_OK);
    assert_int_equal(put1(f->store, "second", "indicator", 1, 2, NULL, NULL), TQ_OK);
    assert_int_equal(tq_store_count(f->store, COLL_ID, &count, &err), TQ_OK);
    assert_int_equal(count, 1);
    assert_int_equal(tq_store_count(f->store, "second", &count, &err), TQ_OK);
    assert_int_equal(count, 2);
    assert_int_equal(tq_store_count(f->store, NULL, &count, &err), TQ_OK);
    assert_int_equal(count, 3);
    assert_int_equal(tq_store_count(f->store, "missing", &count, &err), TQ_ENOTFOUND);
}

/* ---- status resources ----------------------------------------------------------------- */

static void status_put_get_purge(void **state)
{
    struct fixture *f = *state;
    struct tq_err err = {0};
    char *json = NULL;

    assert_int_equal(tq_store_status_put(f->store, "s1", "alice", 100, "{\"a\":1}", 7, &err),
                     TQ_OK);
    assert_int_equal(tq_store_status_put(f->store, "s2", "bob", 200, "{\"b\":2}", 7, &err), TQ_OK);
    assert_int_equal(tq_store_status_get(f->store, "s1", "alice", &json, &err), TQ_OK);
    assert_string_equal(json, "{\"a\":1}");
    tq_free(json);
    json = NULL;
    /* Another owner's status is indistinguishable from a missing one. */
    assert_int_equal(tq_store_status_get(f->store, "s1", "bob", &json, &err), TQ_ENOTFOUND);
    assert_null(json);
    assert_int_equal(tq_store_status_get(f->store, "zz", "bob", &json, &err), TQ_ENOTFOUND);
    /* The owner updates; another user cannot take over the id. */
    assert_int_equal(tq_store_status_put(f->store, "s1", "alice", 100, "{\"a\":2}", 7, &err),
                     TQ_OK);
    assert_int_equal(tq_store_status_put(f->store, "s1", "bob", 100, "{\"x\":0}", 7, &err),
                     TQ_EEXIST);
    assert_int_equal(tq_store_status_get(f->store, "s1", "alice", &json, &err), TQ_OK);
    assert_string_equal(json, "{\"a\":2}");
    tq_free(json);
    json = NULL;
    /* Purge removes only rows older than the bound. */
    assert_int_equal(tq_store_status_purge(f->store, 150, &err), TQ_OK);
    assert_int_equal(tq_store_status_get(f->store, "s1", "alice", &json, &err), TQ_ENOTFOUND);
    assert_int_equal(tq_store_status_get(f->store, "s2", "bob", &json, &err), TQ_OK);
    tq_free(json);
}

/* ---- users, tokens, permissions ------------------------------------------------------- */

static void users_tokens_perms(void **state)
{
    struct fixture *f = *state;
    struct tq_err err = {0};
    uint8_t h1[32], h2[32];
    char *s = NULL, **names = NULL;
    size_t n = 0, i;
    bool r, w;

    memset(h1, 0xa1, sizeof(h1));
    memset(h2, 0xb2, sizeof(h2));
    assert_int_equal(tq_store_user_get(f->store, "alice", &s, &err), TQ_ENOTFOUND);
    assert_int_equal(tq_store_user_put(f->store, "bob", "$argon2id$b", &err), TQ_OK);
    assert_int_equal(tq_store_user_put(f->store, "alice", "$argon2id$1", &err), TQ_OK);
    assert_int_equal(tq_store_user_put(f->store, "alice", "$argon2id$2", &err), TQ_OK);
    assert_int_equal(tq_store_user_get(f->store, "alice", &s, &err), TQ_OK);
    assert_string_equal(s, "$argon2id$2");
    tq_free(s);
    s = NULL;
    assert_int_equal(tq_store_user_list(f->store, &names, &n, &err), TQ_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "alice");
    assert_string_equal(names[1], "bob");
    for (i = 0; i < n; i++)
        tq_free(names[i]);
    tq_free(names);

    /* Tokens: lookup, unknown hash, duplicate, unknown user. */
    assert_int_equal(tq_store_token_add(f->store, "alice", h1, "laptop", &err), TQ_OK);
    assert_int_equal(tq_store_token_lookup(f->store, h1, &s, &err), TQ_OK);
    assert_string_equal(s, "alice");
    tq_free(s);
    s = NULL;
    assert_int_equal(tq_store_token_lookup(f->store, h2, &s, &err), TQ_ENOTFOUND);
    assert_int_equal(tq_store_token_add(f->store, "bob", h1, NULL, &err), TQ_EEXIST);
    assert_int_equal(tq_store_token_add(f->store, "carol", h2, NULL, &err), TQ_ENOTFOUND);

    /* Permissions: unknown pair, specific row, "*" row, OR of both, alias vs id. */
    assert_int_equal(tq_store_perm_get(f->store, "alice", COLL_ID, &r, &w, &err), TQ_OK);
    assert_false(r);
    assert_false(w);
    assert_int_equal(tq_store_perm_set(f->store, "alice", "main", true, false, &err), TQ_OK);
    assert_int_equal(tq_store_perm_get(f->store, "alice", COLL_ID, &r, &w, &err), TQ_OK);
    assert_true(r);
    assert_false(w);
    assert_int_equal(tq_store_perm_set(f->store, "alice", "*", false, true, &err), TQ_OK);
    assert_int_equal(tq_store_perm_get(f->store, "alice", "main", &r, &w, &err), TQ_OK);
    assert_true(r);
    assert_true(w);
    assert_int_equal(tq_store_perm_get(f->store, "alice", "elsewhere", &r, &w, &err), TQ_OK);
    assert_false(r);
    assert_true(w);
    assert_int_equal(tq_store_perm_set(f->store, "alice", COLL_ID, false, false, &err), TQ_OK);
    assert_int_equal(tq_store_perm_get(f->store, "alice", COLL_ID, &r, &w, &err), TQ_OK);
    assert_false(r);
    assert_true(w);
    assert_int_equal(tq_store_perm_get(f->store, "bob", COLL_ID, &r, &w, &err), TQ_OK);
    assert_false(r || w);
    assert_int_equal(tq_store_perm_set(f->store, "carol", "*", true, true, &err), TQ_ENOTFOUND);
    assert_int_equal(tq_store_perm_set(f->store, "bob", "missing", true, true, &err), TQ_ENOTFOUND);

    /* Deleting a user takes its tokens and permissions along. */
    assert_int_equal(tq_store_user_delete(f->store, "alice", &err), TQ_OK);
    assert_int_equal(tq_store_user_delete(f->store, "alice", &err), TQ_ENOTFOUND);
    assert_int_equal(tq_store_token_lookup(f->store, h1, &s, &err), TQ_ENOTFOUND);
    assert_int_equal(tq_store_user_put(f->store, "alice", "$argon2id$3", &err), TQ_OK);
    assert_int_equal(tq_store_perm_get(f->store, "alice", COLL_ID, &r, &w, &err), TQ_OK);
    assert_false(r || w);
}

/* ---- date_added invariants ------------------------------------------------------------ */

static void date_added_monotonic_across_reopen(void **state)
{
    struct fixture *f = *state;
    int64_t da1 = 0, da2 = 0, future = tq_time_now_us() + 3600ll * 1000000;
    char sql[160];

    assert_int_equal(put1(f->store, COLL_ID, "indicator", 1, 1, NULL, &da1), TQ_OK);
    tq_store_close(f->store);
    f->store = open_store(f->path, 2);
    assert_int_equal(put1(f->store, COLL_ID, "indicator", 2, 1, NULL, &da2), TQ_OK);
    assert_true(da2 > da1);

    /*
     * A clock that went backwards (simulated by a last_date_added an hour ahead, as another
     * node's clock would leave it): date_added keeps increasing by one microsecond.
     */
    tq_store_close(f->store);
    snprintf(sql, sizeof(sql), "UPDATE collections SET last_date_added = %" PRId64, future);
    assert_int_equal(backend_exec(f->dir, f->path, sql, sql, NULL, 0), 0);
    f->store = open_store(f->path, 2);
    assert_int_equal(put1(f->store, COLL_ID, "indicator", 3, 1, NULL, &da1), TQ_OK);
    assert_int_equal(da1, future + 1);
    assert_int_equal(put1(f->store, COLL_ID, "indicator", 4, 1, NULL, &da2), TQ_OK);
    assert_int_equal(da2, future + 2);
}

#define CONC_THREADS 4
#define CONC_BATCHES 25
#define CONC_PER_BATCH 8

struct conc_arg {
    struct tq_store *store;
    unsigned thread;
    int64_t da[CONC_BATCHES * CONC_PER_BATCH];
    tq_rc rc;
};

static void *conc_writer(void *p)
{
    struct conc_arg *a = p;
    struct tq_stix_object o[CONC_PER_BATCH];
    struct tq_err err = {0};
    size_t b, i;

    for (b = 0; b < CONC_BATCHES && a->rc == TQ_OK; b++) {
        for (i = 0; i < CONC_PER_BATCH; i++)
            obj_make(&o[i], "indicator", (unsigned)(a->thread * 100000 + b * CONC_PER_BATCH + i), 1,
                     NULL);
        a->rc = tq_store_put(a->store, COLL_ID, o, CONC_PER_BATCH, NULL, &a->da[b * CONC_PER_BATCH],
                             &err);
        for (i = 0; i < CONC_PER_BATCH; i++)
            obj_free(&o[i]);
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/*
 * Writers on one store (pooled connections) and on a second store opened on the same file (as
 * a second process would): every date_added is unique, each writer's are increasing, and a
 * full read returns them all in order.
 */
static void concurrent_writers_unique_date_added(void **state)
{
    struct fixture *f = *state;
    struct tq_store *other = open_store(f->path, 2);
    struct conc_arg *args = tq_xcalloc(CONC_THREADS, sizeof(*args));
    pthread_t th[CONC_THREADS];
    const size_t total = CONC_THREADS * CONC_BATCHES * CONC_PER_BATCH;
    int64_t *all = tq_xcalloc(total, sizeof(*all));
    struct collect *c = tq_xcalloc(1, sizeof(*c));
    struct tq_store_query q = base_query();
    size_t t, i;

    for (t = 0; t < CONC_THREADS; t++) {
        args[t].store = t % 2 ? other : f->store;
        args[t].thread = (unsigned)t;
        assert_int_equal(pthread_create(&th[t], NULL, conc_writer, &args[t]), 0);
    }
    for (t = 0; t < CONC_THREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(args[t].rc, TQ_OK);
        for (i = 0; i < CONC_BATCHES * CONC_PER_BATCH; i++) {
            if (i)
                assert_true(args[t].da[i] > args[t].da[i - 1]);
            all[t * CONC_BATCHES * CONC_PER_BATCH + i] = args[t].da[i];
        }
    }
    qsort(all, total, sizeof(*all), cmp_i64);
    for (i = 1; i < total; i++)
        assert_true(all[i] > all[i - 1]);
    q.limit = 97;
    query_all(f->store, q, false, c);
    assert_int_equal(c->n, total);
    for (i = 0; i < total; i++)
        assert_int_equal(c->rows[i].date_added_us, all[i]);
    tq_store_close(other);
    tq_free(args);
    tq_free(all);
    tq_free(c);
}

/* Many readers and writers through a pool smaller than the number of threads. */
struct pool_arg {
    struct tq_store *store;
    unsigned thread;
    tq_rc rc;
};

static void *pool_worker(void *p)
{
    struct pool_arg *a = p;
    struct collect *c = tq_xcalloc(1, sizeof(*c));
    struct tq_store_query q = base_query();
    struct tq_store_page_info info;
    struct tq_err err = {0};
    char *v = NULL;
    size_t i;

    q.limit = 50;
    for (i = 0; i < 40 && a->rc == TQ_OK; i++) {
        if (i % 4 == 0) {
            a->rc =
                put1(a->store, COLL_ID, "report", a->thread * 1000 + (unsigned)i, 1, NULL, NULL);
        } else if (i % 4 == 1) {
            a->rc = tq_store_meta_get(a->store, "k", &v, &err);
            tq_free(v);
            v = NULL;
        } else {
            c->n = 0;
            a->rc = tq_store_query(a->store, &q, i % 2, collect_cb, c, &info, &err);
        }
    }
    tq_free(c);
    return NULL;
}

static void pool_many_threads(void **state)
{
    struct fixture *f = *state;
    struct tq_store *s = open_store(f->path, 2);
    struct pool_arg args[8];
    pthread_t th[8];
    struct tq_err err = {0};
    uint64_t count = 0;
    size_t t;

    assert_int_equal(tq_store_meta_set(s, "k", "v", &err), TQ_OK);
    for (t = 0; t < 8; t++) {
        args[t].store = s;
        args[t].thread = (unsigned)t;
        args[t].rc = TQ_OK;
        assert_int_equal(pthread_create(&th[t], NULL, pool_worker, &args[t]), 0);
    }
    for (t = 0; t < 8; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(args[t].rc, TQ_OK);
    }
    assert_int_equal(tq_store_count(s, COLL_ID, &count, &err), TQ_OK);
    assert_int_equal(count, 8 * 10);
    tq_store_close(s);
}

/* ---- crash safety --------------------------------------------------------------------- */

#define CRASH_BATCH 40

static void crash_child(const char *path, int fd)
{
    struct tq_store *s = NULL;
    struct tq_stix_object o[CRASH_BATCH];
    struct tq_err err = {0};
    struct tq_collection c = {0};
    uint32_t b;
    size_t i;

    if (tq_store_open(path, NULL, &s, &err))
        _exit(2);
    snprintf(c.id, sizeof(c.id), "%s", COLL_ID);
    c.title = "crash";
    tq_store_collection_add(s, &c, &err); /* exists after the first run */
    for (b = 0; b < 100000; b++) {
        for (i = 0; i < CRASH_BATCH; i++)
            obj_make(&o[i], "indicator", (unsigned)(b * CRASH_BATCH + i), 1, NULL);
        if (tq_store_put(s, COLL_ID, o, CRASH_BATCH, NULL, NULL, &err))
            _exit(3);
        for (i = 0; i < CRASH_BATCH; i++)
            obj_free(&o[i]);
        /* The batch is acknowledged only now, after its COMMIT returned. */
        if (write(fd, &b, sizeof(b)) != (ssize_t)sizeof(b))
            _exit(4);
    }
    _exit(0);
}

/* SQLite's own check of the file (a PostgreSQL server checks its pages itself). */
static void integrity_ok(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;

    if (backend_pg())
        return;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void crash_kill9_keeps_acknowledged(void **state)
{
    struct fixture *f = *state;
    struct tq_err err = {0};
    int round;

    (void)f;
    rng_state = test_seed();
    for (round = 0; round < 3; round++) {
        char dir[64], path[256], oid[TQ_STIX_ID_MAX];
        int fds[2], status = 0;
        uint32_t b, max_acked = 0, acked = 0;
        size_t wait_acks = 1 + rnd_below(25);
        struct tq_store *s;
        struct tq_store_query q;
        struct collect *c = tq_xcalloc(1, sizeof(*c));
        uint64_t count = 0;
        ssize_t got;
        pid_t pid;

        tmpdir_make(dir);
        backend_target(dir, path, sizeof(path));
        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(path, fds[1]);
        }
        close(fds[1]);
        /* Let some batches through, then kill at a random point inside the next ones. */
        while (acked < wait_acks) {
            got = read(fds[0], &b, sizeof(b));
            if (got != (ssize_t)sizeof(b))
                break;
            acked++;
            max_acked = b;
        }
        usleep((useconds_t)rnd_below(20000));
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

        integrity_ok(path);
        s = open_store(path, 2);
        assert_int_equal(tq_store_count(s, COLL_ID, &count, &err), TQ_OK);
        /* Whole batches only, and every acknowledged one (maybe one more, unacknowledged). */
        assert_int_equal(count % CRASH_BATCH, 0);
        assert_true(count >= (uint64_t)(max_acked + 1) * CRASH_BATCH);
        assert_true(count <= (uint64_t)(max_acked + 2) * CRASH_BATCH);
        for (b = 0; b <= max_acked; b += 1 + max_acked / 8) {
            q = base_query();
            snprintf(oid, sizeof(oid), "indicator--%08x-0000-4000-8000-000000000000",
                     (unsigned)(b * CRASH_BATCH + CRASH_BATCH - 1));
            q.object_id = oid;
            query_all(s, q, true, c);
            assert_int_equal(c->n, 1);
        }
        print_message("crash round %d: killed after %u acknowledged batches, %" PRIu64
                      " objects recovered\n",
                      round, max_acked + 1, count);
        tq_store_close(s);
        integrity_ok(path);
        backend_target_drop(dir);
        tmpdir_remove(dir);
        tq_free(c);
    }
}

/* ---- audit checkpoints, leaf lookup, witness states and alarms ---------------------- */

/* A checkpoint note of size leaves (root of all bytes b) signed by signer, then cosigned. */
static char *ckpt_note(const struct tq_note_signer *signer, const struct tq_note_signer *cosigner,
                       uint64_t size, uint8_t b)
{
    struct tq_checkpoint cp = {0};
    struct tq_note *note = NULL;
    struct tq_err err = {0};
    struct tq_buf text, out;

    tq_buf_init(&text, TQ_NOTE_MAX_BYTES);
    tq_buf_init(&out, TQ_NOTE_MAX_BYTES);
    cp.origin = tq_str_c(signer->name);
    cp.size = size;
    memset(cp.root, b, sizeof(cp.root));
    assert_int_equal(tq_checkpoint_format(&cp, &text, &err), TQ_OK);
    assert_int_equal(tq_note_new((struct tq_str){text.ptr, text.len}, &note, &err), TQ_OK);
    assert_int_equal(tq_note_sign(note, signer, &err), TQ_OK);
    if (cosigner)
        assert_int_equal(tq_note_cosign(note, cosigner, 1700000000, &err), TQ_OK);
    assert_int_equal(tq_note_format(note, &out, &err), TQ_OK);
    tq_note_free(note);
    tq_buf_cleanup(&text);
    return tq_buf_take(&out, NULL);
}

struct ckpt_seen {
    struct tq_store *store; /* called back into from the callback */
    uint64_t sizes[128];
    size_t n, stop_after;
};

static bool ckpt_cb(void *ud, uint64_t size, int64_t at_us, const char *note)
{
    struct ckpt_seen *c = ud;
    struct tq_err err = {0};
    char *v = NULL;

    assert_true(at_us > 0);
    assert_non_null(strstr(note, "\n\n\xe2\x80\x94 "));
    /* The callback may use the store: no connection is held while it runs. */
    assert_int_equal(tq_store_meta_get(c->store, "audit.checkpoint", &v, &err), TQ_OK);
    tq_free(v);
    c->sizes[c->n++] = size;
    return c->stop_after == 0 || c->n < c->stop_after;
}

static void audit_checkpoints_iterate_and_update(void **state)
{
    struct fixture *f = *state;
    struct tq_note_signer signer, cosigner;
    struct ckpt_seen seen = {0};
    struct tq_store *one = NULL;
    struct tq_err err = {0};
    char *note, *latest = NULL, *c70, *c5, *other;
    uint64_t i;

    assert_int_equal(tq_note_signer_generate(tq_str_c("tansiq/0011223344556677"),
                                             TQ_NOTE_ALG_ED25519, &signer, &err),
                     TQ_OK);
    assert_int_equal(tq_note_signer_generate(tq_str_c("tansiq/8899aabbccddeeff"),
                                             TQ_NOTE_ALG_COSIG_V1, &cosigner, &err),
                     TQ_OK);
    /* More than a page of checkpoints, sizes 1..70. */
    for (i = 1; i <= 70; i++) {
        note = ckpt_note(&signer, NULL, i, (uint8_t)i);
        assert_int_equal(tq_store_audit_checkpoint_put(f->store, i, note, &err), TQ_OK);
        tq_free(note);
    }
    /* One pooled connection: a callback that used the store would deadlock if one were held. */
    one = open_store(f->path, 1);
    seen.store = one;
    assert_int_equal(tq_store_audit_checkpoints(one, 0, ckpt_cb, &seen, &err), TQ_OK);
    assert_int_equal(seen.n, 70);
    for (i = 0; i < 70; i++)
        assert_int_equal(seen.sizes[i], 70 - i);
    memset(&seen, 0, sizeof(seen));
    seen.store = one;
    assert_int_equal(tq_store_audit_checkpoints(one, 10, ckpt_cb, &seen, &err), TQ_OK);
    assert_int_equal(seen.n, 61);
    assert_int_equal(seen.sizes[60], 10);
    memset(&seen, 0, sizeof(seen));
    seen.store = one;
    seen.stop_after = 5;
    assert_int_equal(tq_store_audit_checkpoints(one, 0, ckpt_cb, &seen, &err), TQ_OK);
    assert_int_equal(seen.n, 5);
    memset(&seen, 0, sizeof(seen));
    seen.store = one;
    assert_int_equal(tq_store_audit_checkpoints(one, 71, ckpt_cb, &seen, &err), TQ_OK);
    assert_int_equal(seen.n, 0);
    assert_int_equal(tq_store_audit_checkpoints(one, UINT64_MAX, ckpt_cb, &seen, &err), TQ_OK);
    assert_int_equal(seen.n, 0);
    tq_store_close(one);

    /* Adding a cosignature to the latest: the table row and the latest both change. */
    c70 = ckpt_note(&signer, &cosigner, 70, 70);
    assert_int_equal(tq_store_audit_checkpoint_update(f->store, 70, c70, &err), TQ_OK);
    assert_int_equal(tq_store_audit_checkpoint_get(f->store, &latest, &err), TQ_OK);
    assert_string_equal(latest, c70);
    tq_free(latest);
    /* An older one: its row changes, the latest stays. */
    c5 = ckpt_note(&signer, &cosigner, 5, 5);
    assert_int_equal(tq_store_audit_checkpoint_update(f->store, 5, c5, &err), TQ_OK);
    assert_int_equal(tq_store_audit_checkpoint_get(f->store, &latest, &err), TQ_OK);
    assert_string_equal(latest, c70);
    tq_free(latest);
    /* Another text (another root, or another size's text) is refused and changes nothing. */
    other = ckpt_note(&signer, &cosigner, 5, 6);
    assert_int_equal(tq_store_audit_checkpoint_update(f->store, 5, other, &err), TQ_EINVAL);
    tq_free(other);
    other = ckpt_note(&signer, &cosigner, 6, 6);
    assert_int_equal(tq_store_audit_checkpoint_update(f->store, 5, other, &err), TQ_EINVAL);
    assert_int_equal(tq_store_audit_checkpoint_update(f->store, 5, "no note", &err), TQ_EINVAL);
    assert_int_equal(tq_store_audit_checkpoint_update(f->store, 999, other, &err), TQ_ENOTFOUND);
    assert_int_equal(tq_store_audit_checkpoint_update(f->store, UINT64_MAX, other, &err),
                     TQ_ENOTFOUND);
    tq_free(other);
    /* The kept row holds the cosigned note. */
    {
        static const char sql[] = "SELECT note FROM audit_checkpoints WHERE size = 5";
        char kept[4096];

        assert_int_equal(backend_exec(f->dir, f->path, sql, sql, kept, sizeof(kept)), 0);
        assert_string_equal(kept, c5);
    }
    tq_free(c70);
    tq_free(c5);
    tq_note_signer_cleanup(&signer);
    tq_note_signer_cleanup(&cosigner);
}

struct found {
    uint64_t idx[512];
    size_t n, stop_after;
};

static bool find_cb(void *ud, const struct tq_store_audit_entry *e)
{
    struct found *fd = ud;

    assert_non_null(e->record);
    fd->idx[fd->n++] = e->idx;
    return fd->stop_after == 0 || fd->n < fd->stop_after;
}

static void audit_find_matches_model(void **state)
{
    static const char *const kinds[] = {"stored", "released", "read", "withdrawn"};
    static const char *const partners[] = {NULL, "alpha", "bravo"};
    struct tq_store_audit_event ev[300];
    struct tq_store_audit_query q;
    struct found *fd = tq_xcalloc(1, sizeof(*fd));
    struct fixture *f = *state;
    struct tq_err err = {0};
    size_t i, k, want;
    int64_t at[300];

    /* 300 leaves over 40 distinct times, so that pages end inside runs of equal times. */
    for (i = 0; i < 300; i++) {
        at[i] = 1000000 + (int64_t)((i * 7) % 40);
        ev[i] = (struct tq_store_audit_event){.kind = kinds[i % 4],
                                              .at_us = at[i],
                                              .collection = COLL_ID,
                                              .object = "indicator--00000001-0000-4000-8000-"
                                                        "000000000000",
                                              .version_us = -1,
                                              .partner = partners[i % 3]};
    }
    assert_int_equal(tq_store_audit_append(f->store, ev, 300, &err), TQ_OK);

    for (k = 0; k < 6; k++) {
        memset(&q, 0, sizeof(q));
        switch (k) {
        case 1:
            q.kind = "read";
            break;
        case 2:
            q.partner = "alpha";
            break;
        case 3:
            q.kind = "withdrawn";
            q.partner = "bravo";
            break;
        case 4:
            q.at_min_us = 1000010;
            q.at_max_us = 1000020;
            break;
        case 5:
            q.at_min_us = 1000039;
            q.partner = "nobody";
            break;
        }
        memset(fd, 0, sizeof(*fd));
        assert_int_equal(tq_store_audit_find(f->store, &q, find_cb, fd, &err), TQ_OK);
        /* The model: every matching leaf, in (at_us, idx) order. */
        want = 0;
        for (int64_t t = 1000000; t < 1000040; t++) {
            for (i = 0; i < 300; i++) {
                if (at[i] != t || t < q.at_min_us || (q.at_max_us && t > q.at_max_us))
                    continue;
                if (q.kind && strcmp(q.kind, kinds[i % 4]) != 0)
                    continue;
                if (q.partner && (!partners[i % 3] || strcmp(q.partner, partners[i % 3]) != 0))
                    continue;
                assert_true(want < fd->n);
                assert_int_equal(fd->idx[want], i);
                want++;
            }
        }
        assert_int_equal(fd->n, want);
    }
    /* Stopping early, and an empty range. */
    memset(&q, 0, sizeof(q));
    memset(fd, 0, sizeof(*fd));
    fd->stop_after = 70;
    assert_int_equal(tq_store_audit_find(f->store, &q, find_cb, fd, &err), TQ_OK);
    assert_int_equal(fd->n, 70);
    memset(fd, 0, sizeof(*fd));
    q.at_min_us = 1000020;
    q.at_max_us = 1000010;
    assert_int_equal(tq_store_audit_find(f->store, &q, find_cb, fd, &err), TQ_OK);
    assert_int_equal(fd->n, 0);
    assert_int_equal(tq_store_audit_find(f->store, NULL, find_cb, fd, &err), TQ_EINVAL);
    tq_free(fd);
}

static void witness_state_compare_and_swap(void **state)
{
    struct fixture *f = *state;
    struct tq_store_witness w, got, *v = NULL;
    struct tq_err err = {0};
    uint64_t current = 12345;
    size_t n = 0;

    assert_int_equal(tq_store_witness_get(f->store, "tansiq/aa", &got, &err), TQ_ENOTFOUND);
    memset(&w, 0, sizeof(w));
    snprintf(w.origin, sizeof(w.origin), "tansiq/aa");
    snprintf(w.partner, sizeof(w.partner), "alpha");
    w.size = 5;
    memset(w.root, 5, 32);
    w.note = "note of 5\n";
    /* Never cosigned counts as size 0. */
    assert_int_equal(tq_store_witness_advance(f->store, &w, 3, &current, &err), TQ_ECONFLICT);
    assert_int_equal(current, 0);
    assert_int_equal(tq_store_witness_advance(f->store, &w, 0, &current, &err), TQ_OK);
    assert_int_equal(tq_store_witness_get(f->store, "tansiq/aa", &got, &err), TQ_OK);
    assert_int_equal(got.size, 5);
    assert_string_equal(got.partner, "alpha");
    assert_string_equal(got.note, "note of 5\n");
    assert_true(got.at_us > 0);
    for (int i = 0; i < 32; i++)
        assert_int_equal(got.root[i], 5);
    tq_store_witness_cleanup(&got);

    /* A writer that read size 0 too loses: nothing changes, the current size is reported. */
    w.size = 7;
    w.note = "note of 7\n";
    assert_int_equal(tq_store_witness_advance(f->store, &w, 0, &current, &err), TQ_ECONFLICT);
    assert_int_equal(current, 5);
    assert_int_equal(tq_store_witness_advance(f->store, &w, 0, NULL, &err), TQ_ECONFLICT);
    assert_int_equal(tq_store_witness_get(f->store, "tansiq/aa", &got, &err), TQ_OK);
    assert_int_equal(got.size, 5);
    assert_string_equal(got.note, "note of 5\n");
    tq_store_witness_cleanup(&got);

    /* Sizes past 2^63 - 1 (a log may be that large) read back unchanged. */
    w.size = UINT64_MAX;
    w.at_us = 42;
    assert_int_equal(tq_store_witness_advance(f->store, &w, 5, &current, &err), TQ_OK);
    assert_int_equal(tq_store_witness_get(f->store, "tansiq/aa", &got, &err), TQ_OK);
    assert_true(got.size == UINT64_MAX);
    assert_int_equal(got.at_us, 42);
    tq_store_witness_cleanup(&got);
    w.size = 1;
    assert_int_equal(tq_store_witness_advance(f->store, &w, UINT64_MAX - 1, &current, &err),
                     TQ_ECONFLICT);
    assert_true(current == UINT64_MAX);

    snprintf(w.origin, sizeof(w.origin), "tansiq/0b");
    assert_int_equal(tq_store_witness_advance(f->store, &w, 0, NULL, &err), TQ_OK);
    assert_int_equal(tq_store_witness_list(f->store, &v, &n, &err), TQ_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].origin, "tansiq/0b");
    assert_string_equal(v[1].origin, "tansiq/aa");
    assert_true(v[1].size == UINT64_MAX);
    tq_store_witness_list_free(v, n);

    w.origin[0] = '\0';
    assert_int_equal(tq_store_witness_advance(f->store, &w, 0, NULL, &err), TQ_EINVAL);
    snprintf(w.origin, sizeof(w.origin), "tansiq/cc");
    w.note = NULL;
    assert_int_equal(tq_store_witness_advance(f->store, &w, 0, NULL, &err), TQ_EINVAL);
}

/* Many writers advance one origin from the same size at once: exactly one of them wins. */
struct cas_arg {
    struct tq_store *store;
    int id;
    tq_rc rc;
};

static void *cas_thread(void *p)
{
    struct cas_arg *a = p;
    struct tq_store_witness w;
    struct tq_err err = {0};
    char note[32];

    memset(&w, 0, sizeof(w));
    snprintf(w.origin, sizeof(w.origin), "tansiq/race");
    snprintf(w.partner, sizeof(w.partner), "alpha");
    w.size = 10 + (uint64_t)a->id;
    snprintf(note, sizeof(note), "note %d\n", a->id);
    w.note = note;
    a->rc = tq_store_witness_advance(a->store, &w, 0, NULL, &err);
    return NULL;
}

static void witness_state_race(void **state)
{
    struct fixture *f = *state;
    struct tq_store *other = open_store(f->path, 2);
    struct cas_arg args[8];
    pthread_t th[8];
    struct tq_store_witness got;
    struct tq_err err = {0};
    int i, wins = 0;

    for (i = 0; i < 8; i++) {
        args[i] = (struct cas_arg){.store = i % 2 ? other : f->store, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, cas_thread, &args[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        if (args[i].rc == TQ_OK)
            wins++;
        else
            assert_int_equal(args[i].rc, TQ_ECONFLICT);
    }
    assert_int_equal(wins, 1);
    assert_int_equal(tq_store_witness_get(f->store, "tansiq/race", &got, &err), TQ_OK);
    assert_true(got.size >= 10 && got.size < 18);
    tq_store_witness_cleanup(&got);
    tq_store_close(other);
}

static void alarms_round_trip(void **state)
{
    struct fixture *f = *state;
    struct tq_store_alarm a, *v = NULL;
    struct tq_err err = {0};
    int64_t id1 = 0, id2 = 0;
    size_t n = 0;

    assert_int_equal(tq_store_alarm_list(f->store, &v, &n, &err), TQ_OK);
    assert_int_equal(n, 0);
    tq_store_alarm_list_free(v, n);

    memset(&a, 0, sizeof(a));
    snprintf(a.partner, sizeof(a.partner), "alpha");
    a.origin = "tansiq/aa";
    a.reason = "fork: another root";
    a.old_note = "old note\n";
    a.new_note = "new note\n";
    a.proof = "old 9\nAAAA\n";
    a.id = 99; /* ignored */
    assert_int_equal(tq_store_alarm_add(f->store, &a, &id1, &err), TQ_OK);
    a.old_note = NULL;
    a.proof = NULL;
    a.reason = "rollback";
    assert_int_equal(tq_store_alarm_add(f->store, &a, &id2, &err), TQ_OK);
    assert_true(id2 > id1);
    assert_int_equal(tq_store_alarm_add(f->store, &a, NULL, &err), TQ_OK);

    assert_int_equal(tq_store_alarm_list(f->store, &v, &n, &err), TQ_OK);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].id, id1);
    assert_int_equal(v[1].id, id2);
    assert_true(v[0].at_us > 0 && v[1].at_us >= v[0].at_us);
    assert_string_equal(v[0].partner, "alpha");
    assert_string_equal(v[0].origin, "tansiq/aa");
    assert_string_equal(v[0].reason, "fork: another root");
    assert_string_equal(v[0].old_note, "old note\n");
    assert_string_equal(v[0].new_note, "new note\n");
    assert_string_equal(v[0].proof, "old 9\nAAAA\n");
    assert_string_equal(v[1].reason, "rollback");
    assert_null(v[1].old_note);
    assert_null(v[1].proof);
    tq_store_alarm_list_free(v, n);

    a.new_note = NULL;
    assert_int_equal(tq_store_alarm_add(f->store, &a, NULL, &err), TQ_EINVAL);
    a.new_note = "n\n";
    a.partner[0] = '\0';
    assert_int_equal(tq_store_alarm_add(f->store, &a, NULL, &err), TQ_EINVAL);
}

/* A version 3 database (before witnessing) is migrated to the latest version at open. */
static void migrate_v3_to_latest(void **state)
{
    struct fixture *f = *state;
    struct tq_store_witness w;
    struct tq_err err = {0};
    sqlite3 *db;
    sqlite3_stmt *st;

    tq_store_close(f->store);
    f->store = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "DROP INDEX facts_in; DROP INDEX facts_origin; DROP INDEX releases_added; "
                     "DROP TABLE web_sessions; DROP TABLE psi_runs; DROP TABLE psi_grants; "
                     "DROP TABLE watchlist_names; DROP TABLE watchlist_entries; "
                     "DROP TABLE watchlists; "
                     "DROP TABLE alert_collections; DROP TABLE alerts; "
                     "DROP TABLE alert_rules; DROP TABLE correl; "
                     "DROP TABLE incidents_rtree; DROP TABLE incidents; "
                     "DROP TABLE geo_units; DROP INDEX objects_marking; "
                     "DROP TABLE witness; DROP TABLE audit_alarms; "
                     "DROP INDEX audit_leaves_at; DROP INDEX audit_leaves_partner; "
                     "DROP TABLE audit_receipts; DROP INDEX facts_pending; "
                     "ALTER TABLE facts DROP COLUMN restrict_to; "
                     "ALTER TABLE facts DROP COLUMN pending; "
                     "ALTER TABLE facts DROP COLUMN not_understood; "
                     "PRAGMA user_version = 3",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    f->store = open_store(f->path, 2);
    memset(&w, 0, sizeof(w));
    snprintf(w.origin, sizeof(w.origin), "tansiq/aa");
    snprintf(w.partner, sizeof(w.partner), "alpha");
    w.note = "n\n";
    assert_int_equal(tq_store_witness_advance(f->store, &w, 0, NULL, &err), TQ_OK);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM sqlite_schema WHERE name IN "
                                        "('witness', 'audit_alarms', 'audit_leaves_at', "
                                        "'audit_leaves_partner', 'audit_receipts')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 5);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), TQ_STORE_SCHEMA_VERSION);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- the signer lock ------------------------------------------------------------------ */

struct signer_probe {
    struct tq_store *store;
    int64_t start_us, end_us;
    int64_t hold_us;
    tq_rc rc;
};

static tq_rc signer_hold(void *ud, struct tq_err *err)
{
    struct signer_probe *p = ud;

    (void)err;
    p->start_us = tq_time_mono_us();
    usleep((useconds_t)p->hold_us);
    p->end_us = tq_time_mono_us();
    return TQ_OK;
}

static int signer_pipe_fd = -1;

/* Inside the lock: say so on the pipe, then hold it until killed. */
static tq_rc signer_tell_and_wait(void *ud, struct tq_err *err)
{
    (void)ud;
    (void)err;
    if (write(signer_pipe_fd, "x", 1) != 1)
        _exit(5);
    sleep(60);
    return TQ_OK;
}

static void *signer_thread(void *arg)
{
    struct signer_probe *p = arg;
    struct tq_err err = {0};

    p->rc = tq_store_signer_run(p->store, signer_hold, p, &err);
    return NULL;
}

/*
 * Two stores on one database (as two processes would hold them) never hold the signer lock at
 * once; and a process killed while holding it releases it, so another takes over.
 */
static void signer_lock_excludes_and_survives_kill(void **state)
{
    struct fixture *f = *state;
    struct signer_probe a = {.hold_us = 300000}, b = {.hold_us = 1000};
    struct tq_err err = {0};
    pthread_t ta, tb;
    int fds[2], status = 0;
    char c = 0;
    pid_t pid;

    a.store = f->store;
    b.store = open_store(f->path, 2);
    assert_int_equal(pthread_create(&ta, NULL, signer_thread, &a), 0);
    usleep(50000);
    assert_int_equal(pthread_create(&tb, NULL, signer_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.rc, TQ_OK);
    assert_int_equal(b.rc, TQ_OK);
    assert_true(b.start_us >= a.end_us);
    tq_store_close(b.store);

    /* A child takes the lock and is killed holding it. */
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct tq_store *s = NULL;

        close(fds[0]);
        signer_pipe_fd = fds[1];
        if (tq_store_open(f->path, NULL, &s, &err))
            _exit(2);
        tq_store_signer_run(s, signer_tell_and_wait, NULL, &err);
        _exit(3);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &c, 1), 1); /* the child holds the lock now */
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    close(fds[0]);
    b.store = open_store(f->path, 2);
    b.rc = tq_store_signer_run(b.store, signer_hold, &b, &err);
    assert_int_equal(b.rc, TQ_OK);
    tq_store_close(b.store);
}

int main(int argc, char **argv)
{
    /* The store contract: every backend. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open_postgres_uri_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(open_read_only_refuses_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(meta_get_set, setup, teardown),
        cmocka_unit_test_setup_teardown(collections_add_get_list, setup, teardown),
        cmocka_unit_test_setup_teardown(put_stored_and_present, setup, teardown),
        cmocka_unit_test_setup_teardown(put_is_atomic_on_backend_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(put_maintains_first_last, setup, teardown),
        cmocka_unit_test_setup_teardown(query_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(query_json_and_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(query_matches_model, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_selectors, setup, teardown),
        cmocka_unit_test_setup_teardown(count_per_collection, setup, teardown),
        cmocka_unit_test_setup_teardown(status_put_get_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(users_tokens_perms, setup, teardown),
        cmocka_unit_test_setup_teardown(date_added_monotonic_across_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_writers_unique_date_added, setup, teardown),
        cmocka_unit_test_setup_teardown(pool_many_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(crash_kill9_keeps_acknowledged, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_checkpoints_iterate_and_update, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_find_matches_model, setup, teardown),
        cmocka_unit_test_setup_teardown(witness_state_compare_and_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(witness_state_race, setup, teardown),
        cmocka_unit_test_setup_teardown(alarms_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(signer_lock_excludes_and_survives_kill, setup, teardown),
    };
    /* The SQLite driver's own: its file format, WAL and PRAGMA user_version migrations. */
    const struct CMUnitTest sqlite_tests[] = {
        cmocka_unit_test_setup_teardown(open_uri_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(open_sets_wal_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(migrate_v3_to_latest, setup, teardown),
    };
    int failed;

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    failed = cmocka_run_group_tests_name(
        backend_pg() ? "store contract [postgres]" : "store contract", tests, NULL, NULL);
    if (backend_pg()) {
        print_message("not run on postgres (SQLite driver tests): open_uri_forms, "
                      "open_sets_wal_and_schema, migrate_v3_to_latest\n");
        return failed;
    }
    return failed + cmocka_run_group_tests_name("store sqlite driver", sqlite_tests, NULL, NULL);
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
