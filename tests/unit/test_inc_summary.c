/* SPDX-License-Identifier: Apache-2.0
 *
 * test_inc_summary - the map's summary answered from this process's columns
 * (tq_store_incidents_summary) against the store's statements (tq_store_incidents_summary_sql)
 * on a few thousand random incidents, with random boxes, times, kinds, cells, bins and readers
 * (the node, a user of one collection, a user of none, a user of every one), on the backend of
 * TQ_TEST_STORE; and again after each change the columns must follow: incidents appended, newer
 * versions of located objects, a deleted version, an incident replaced in place, a permission
 * granted, a second store handle writing (as another process would).
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

#include "tansiq/monitor_store.h"
#include "tansiq/store.h"
#include "backend.h"
#include "fixture.h"

#define COLL_ID "11111111-2222-4333-8444-555555555555"
#define COLL2_ID "66666666-7777-4888-8999-aaaaaaaaaaaa"
#define N_OBJECTS 1500
#define N_QUERIES 60

static const char *const KINDS[] = {"seizure", "crossing", "attack", "location"};

struct fixture {
    char dir[64];
    char path[256];
    struct tq_store *store;
    uint64_t rng;
    unsigned next_obj;
    /* every version put: its collection, object number and date_added */
    struct ver {
        const char *coll;
        unsigned n;
        int64_t version_us, da;
    } * vers;
    size_t n_vers;
};

static void must(tq_rc rc, const struct tq_err *err, const char *what)
{
    if (rc)
        fail_msg("%s: %s (%s)", what, err->msg, tq_rc_str(rc));
}

static uint64_t rnd(struct fixture *f)
{
    f->rng ^= f->rng << 13;
    f->rng ^= f->rng >> 7;
    f->rng ^= f->rng << 17;
    return f->rng;
}

static int64_t rnd_in(struct fixture *f, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd(f) % (uint64_t)(hi - lo + 1));
}

static void add_collection(struct tq_store *s, const char *id, const char *title)
{
    struct tq_collection c = {0};
    struct tq_err err = {0};

    snprintf(c.id, sizeof(c.id), "%s", id);
    c.title = (char *)title;
    must(tq_store_collection_add(s, &c, &err), &err, "collection");
}

/* Put version version_us of object n in coll and a random incident of it. */
static void put_located(struct fixture *f, struct tq_store *s, const char *coll, unsigned n,
                        int64_t version_us)
{
    struct tq_stix_object o;
    struct tq_store_incident i = {0};
    int64_t da = 0;
    struct tq_err err = {0};

    fixture_indicator(&o, n, version_us);
    must(tq_store_put_ex(s, coll, &o, NULL, 1, fixture_decide_letters, (void *)"", NULL, &da, &err),
         &err, "put");
    tq_free(o.json);
    i.collection_id = coll;
    i.date_added_us = da;
    snprintf(i.kind, sizeof(i.kind), "%s", KINDS[rnd(f) % 4]);
    /* Around the border region, with a few far away and a few on negative coordinates. */
    i.lon_e7 = (int32_t)(rnd(f) % 10 ? rnd_in(f, 380000000, 440000000)
                                     : rnd_in(f, -1799999999, 1799999999));
    i.lat_e7 =
        (int32_t)(rnd(f) % 10 ? rnd_in(f, 320000000, 370000000) : rnd_in(f, -899999999, 899999999));
    i.at_us = rnd_in(f, 1500000000000000, 1800000000000000);
    i.border_m = -1;
    must(tq_store_incident_put(s, &i, &err), &err, "incident");
    f->vers = tq_xrealloc(f->vers, (f->n_vers + 1) * sizeof(*f->vers));
    f->vers[f->n_vers++] = (struct ver){coll, n, version_us, da};
}

static int setup(void **state)
{
    struct fixture *f = tq_xcalloc(1, sizeof(*f));
    struct tq_err err = {0};

    f->rng = 0x9e3779b97f4a7c15ULL;
    snprintf(f->dir, sizeof(f->dir), "/tmp/tq-incsum-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    backend_target(f->dir, f->path, sizeof(f->path));
    f->store = fixture_store_open(f->path);
    add_collection(f->store, COLL_ID, "Main");
    add_collection(f->store, COLL2_ID, "Second");
    must(tq_store_user_put(f->store, "alice", "x", &err), &err, "user");
    must(tq_store_user_put(f->store, "bob", "x", &err), &err, "user");
    must(tq_store_user_put(f->store, "carol", "x", &err), &err, "user");
    must(tq_store_perm_set(f->store, "alice", COLL_ID, true, false, &err), &err, "perm");
    must(tq_store_perm_set(f->store, "carol", "*", true, false, &err), &err, "perm");
    for (unsigned k = 0; k < N_OBJECTS; k++) {
        put_located(f, f->store, k % 3 ? COLL_ID : COLL2_ID, f->next_obj, 1000);
        /* One object in ten gets newer versions (one in three of them out of order). */
        if (k % 10 == 0)
            put_located(f, f->store, k % 3 ? COLL_ID : COLL2_ID, f->next_obj, k % 30 ? 2000 : 500);
        f->next_obj++;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tq_store_close(f->store);
    backend_target_drop(f->dir);
    tmpdir_remove(f->dir);
    tq_free(f->vers);
    tq_free(f);
    return 0;
}

/* A summary's rows, in a canonical text sorted for comparison. */
struct rows {
    char **v;
    size_t n;
};

static void rows_add(struct rows *r, char *line)
{
    r->v = tq_xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
    r->v[r->n++] = line;
}

static tq_rc on_cell(void *ud, const struct tq_store_incident_cell *c)
{
    char line[256];

    snprintf(line, sizeof(line), "c %" PRId64 " %" PRId64 " %s %" PRId64 " %" PRId64 " %" PRId64,
             c->cx, c->cy, c->kind, c->count, c->sum_lon_e7, c->sum_lat_e7);
    rows_add(ud, tq_xstrdup(line));
    return TQ_OK;
}

static tq_rc on_bin(void *ud, int64_t bin, int64_t count)
{
    char line[96];

    snprintf(line, sizeof(line), "b %" PRId64 " %" PRId64, bin, count);
    rows_add(ud, tq_xstrdup(line));
    return TQ_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void rows_free(struct rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        tq_free(r->v[i]);
    tq_free(r->v);
    memset(r, 0, sizeof(*r));
}

static const struct tq_store_reader ALICE = {.perm_key = "alice"};
static const struct tq_store_reader BOB = {.perm_key = "bob"};
static const struct tq_store_reader CAROL = {.perm_key = "carol"};

/* Compare both answers on N_QUERIES random queries; the number of rows compared. */
static size_t compare_random(struct fixture *f)
{
    static const struct tq_store_reader *const readers[] = {NULL, &ALICE, &BOB, &CAROL};
    size_t compared = 0;

    for (int t = 0; t < N_QUERIES; t++) {
        struct tq_store_incident_summary_query q = {0};
        struct rows a = {0}, b = {0};
        struct tq_err err = {0};
        static const int64_t cells[] = {1, 1000000, 10000000, 50000000, 3600000000LL};
        static const int64_t bins[] = {1, 86400000000LL, 2592000000000LL, 31536000000000LL};

        q.reader = readers[t % 4];
        if (rnd(f) % 2) {
            q.has_bbox = true;
            q.min_lon_e7 = (int32_t)rnd_in(f, 370000000, 420000000);
            q.max_lon_e7 = (int32_t)rnd_in(f, q.min_lon_e7, 450000000);
            q.min_lat_e7 = (int32_t)rnd_in(f, 310000000, 350000000);
            q.max_lat_e7 = (int32_t)rnd_in(f, q.min_lat_e7, 380000000);
        }
        if (rnd(f) % 2)
            q.since_us = rnd_in(f, 1500000000000000, 1700000000000000);
        if (rnd(f) % 2)
            q.until_us = rnd_in(f, 1600000000000000, 1800000000000000);
        if (rnd(f) % 3 == 0)
            q.kind = rnd(f) % 5 ? KINDS[rnd(f) % 4] : "no-such-kind";
        q.cell_e7 = cells[rnd(f) % 5];
        q.bin_us = bins[rnd(f) % 4];
        q.bin_origin_us = q.since_us ? q.since_us - ((q.since_us % q.bin_us) + q.bin_us) % q.bin_us
                                     : -(INT64_C(1) << 61) / q.bin_us * q.bin_us;
        must(tq_store_incidents_summary(f->store, &q, on_cell, on_bin, &a, &err), &err, "cached");
        must(tq_store_incidents_summary_sql(f->store, &q, on_cell, on_bin, &b, &err), &err,
             "statements");
        if (a.n)
            qsort(a.v, a.n, sizeof(*a.v), cmp_str);
        if (b.n)
            qsort(b.v, b.n, sizeof(*b.v), cmp_str);
        assert_int_equal(a.n, b.n);
        for (size_t i = 0; i < a.n; i++)
            assert_string_equal(a.v[i], b.v[i]);
        compared += a.n;
        rows_free(&a);
        rows_free(&b);
    }
    return compared;
}

/* The whole store counted by the node: a check that the changes below are seen at all. */
static int64_t total(struct fixture *f, const struct tq_store_reader *r)
{
    struct tq_store_incident_summary_query q = {
        .reader = r, .cell_e7 = 3600000000LL, .bin_us = INT64_C(1) << 62, .bin_origin_us = 0};
    struct rows a = {0};
    struct tq_err err = {0};
    int64_t sum = 0;

    must(tq_store_incidents_summary(f->store, &q, on_cell, on_bin, &a, &err), &err, "cached");
    for (size_t i = 0; i < a.n; i++)
        if (a.v[i][0] == 'b')
            sum += strtoll(strrchr(a.v[i], ' ') + 1, NULL, 10);
    rows_free(&a);
    return sum;
}

/* Random queries agree, on a store of a few thousand incidents with superseded versions. */
static void agree_random(void **state)
{
    struct fixture *f = *state;
    size_t rows = compare_random(f);

    print_message("%zu rows compared over %d queries\n", rows, N_QUERIES);
    assert_true(rows > 0);
    assert_int_equal(total(f, NULL), N_OBJECTS);
    assert_int_equal(total(f, &BOB), 0);
}

/* After each change the columns follow, through this handle and through another one. */
static void agree_after_changes(void **state)
{
    struct fixture *f = *state;
    struct tq_store *other = fixture_store_open(f->path);
    struct tq_store_incident i = {0};
    struct tq_store_query dq = {0};
    struct tq_err err = {0};
    size_t deleted = 0;
    int64_t before;

    compare_random(f); /* built */
    before = total(f, NULL);

    /* Appended, by another handle (another process's writes look the same). */
    for (int k = 0; k < 50; k++)
        put_located(f, other, COLL_ID, f->next_obj++, 1000);
    assert_int_equal(total(f, NULL), before + 50);
    compare_random(f);

    /* Newer versions of objects already counted: the older incidents drop out. */
    for (unsigned k = 1; k < 40; k += 3)
        put_located(f, other, f->vers[k].coll, f->vers[k].n, 5000);
    compare_random(f);

    /* A newer version with no incident still hides the older one's. */
    {
        struct tq_stix_object o;
        int64_t da = 0;
        int64_t was = total(f, NULL);

        fixture_indicator(&o, f->vers[100].n, 9000);
        must(tq_store_put_ex(other, f->vers[100].coll, &o, NULL, 1, fixture_decide_letters,
                             (void *)"", NULL, &da, &err),
             &err, "put");
        tq_free(o.json);
        assert_int_equal(total(f, NULL), was - 1);
        compare_random(f);
    }

    /* A deleted version: its incident goes, and an older version may be the last again. */
    dq.collection_id = f->vers[1].coll;
    {
        char oid[sizeof(((struct tq_stix_object *)0)->id)];
        int64_t vs = 5000;
        struct tq_stix_object o;

        fixture_indicator(&o, f->vers[1].n, 1);
        snprintf(oid, sizeof(oid), "%s", o.id);
        tq_free(o.json);
        dq.object_id = oid;
        dq.version_flags = TQ_MATCH_TIMES;
        dq.versions = &vs;
        dq.n_versions = 1;
        must(tq_store_delete(other, &dq, &deleted, &err), &err, "delete");
        assert_int_equal(deleted, 1);
    }
    compare_random(f);

    /* An incident replaced in place: another kind, another point. */
    i.collection_id = f->vers[5].coll;
    i.date_added_us = f->vers[5].da;
    snprintf(i.kind, sizeof(i.kind), "replaced");
    i.lon_e7 = 400000001;
    i.lat_e7 = 330000001;
    i.at_us = 1650000000000000;
    i.border_m = -1;
    must(tq_store_incident_put(other, &i, &err), &err, "incident");
    compare_random(f);

    /* A permission granted: read per answer. */
    before = total(f, &BOB);
    must(tq_store_perm_set(other, "bob", COLL2_ID, true, false, &err), &err, "perm");
    assert_true(total(f, &BOB) > before);
    compare_random(f);

    tq_store_close(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(agree_random, setup, teardown),
        cmocka_unit_test_setup_teardown(agree_after_changes, setup, teardown),
    };

    tq_log_set_level(TQ_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
