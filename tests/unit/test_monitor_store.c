/* SPDX-License-Identifier: Apache-2.0
 *
 * test_monitor_store - the border-monitoring part of the store (tansiq/monitor_store.h) on the
 * backend of TQ_TEST_STORE (SQLite by default, PostgreSQL with TQ_TEST_STORE=postgres, see
 * backend.h): administrative units, incidents and their filters, paging and spatial index, the
 * reader filter (permissions and releases) that never leaks through a page or its "more",
 * cascades from object versions, the correlation index, alert rules and alerts, and on SQLite
 * the migration of a version 5 file and the plans of the statements.
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
#include <sqlite3.h>

#include "store/driver.h" /* the SQLite statement text, for its query plans */
#include "store/store.h"
#include "tansiq/monitor_store.h"
#include "tansiq/store.h"
#include "backend.h"
#include "fixture.h"

#define COLL_ID "11111111-2222-4333-8444-555555555555"
#define COLL2_ID "66666666-7777-4888-8999-aaaaaaaaaaaa"
#define UNKNOWN_ID "99999999-2222-4333-8444-555555555555"

struct fixture {
    char dir[64];
    char path[256];
    struct tq_store *store;
};

static void must(tq_rc rc, const struct tq_err *err, const char *what)
{
    if (rc)
        fail_msg("%s: %s (%s)", what, err->msg, tq_rc_str(rc));
}

static void add_collection(struct tq_store *s, const char *id, const char *title)
{
    struct tq_collection c = {0};
    struct tq_err err = {0};

    snprintf(c.id, sizeof(c.id), "%s", id);
    c.title = (char *)title;
    must(tq_store_collection_add(s, &c, &err), &err, "collection");
}

static void add_partner(struct tq_store *s, const char *name, uint8_t pin)
{
    struct tq_partner p = {0};
    struct tq_err err = {0};

    snprintf(p.name, sizeof(p.name), "%s", name);
    memset(p.cert_sha256, pin, sizeof(p.cert_sha256));
    p.added_us = 1700000000000000;
    must(tq_store_partner_put(s, &p, &err), &err, "partner");
}

/*
 * Two collections; users alice (reads COLL only) and bob (no grant); partners alpha and bravo,
 * both granted read on COLL.
 */
static int setup(void **state)
{
    struct fixture *f = tq_xcalloc(1, sizeof(*f));
    struct tq_err err = {0};

    snprintf(f->dir, sizeof(f->dir), "/tmp/tq-mstore-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    backend_target(f->dir, f->path, sizeof(f->path));
    f->store = fixture_store_open(f->path);
    add_collection(f->store, COLL_ID, "Main");
    add_collection(f->store, COLL2_ID, "Second");
    must(tq_store_user_put(f->store, "alice", "x", &err), &err, "user");
    must(tq_store_user_put(f->store, "bob", "x", &err), &err, "user");
    must(tq_store_perm_set(f->store, "alice", COLL_ID, true, false, &err), &err, "perm");
    add_partner(f->store, "alpha", 1);
    add_partner(f->store, "bravo", 2);
    must(tq_store_perm_set(f->store, "partner:alpha", COLL_ID, true, false, &err), &err, "perm");
    must(tq_store_perm_set(f->store, "partner:bravo", COLL_ID, true, false, &err), &err, "perm");
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

/* Store version version_us of indicator n in coll, released to partners by initial; its
 * date_added. origin: the facts' origin (NULL: local). */
static int64_t put_version(struct tq_store *s, const char *coll, unsigned n, int64_t version_us,
                           const char *letters, const char *origin)
{
    struct tq_stix_object o;
    struct tq_store_facts facts = {.origin = origin, .received_us = origin ? 1 : 0};
    int64_t da = 0;
    struct tq_err err = {0};

    fixture_indicator(&o, n, version_us);
    must(tq_store_put_ex(s, coll, &o, &facts, 1, fixture_decide_letters, (void *)letters, NULL, &da,
                         &err),
         &err, "put");
    tq_free(o.json);
    return da;
}

static struct tq_store_incident incident(const char *coll, int64_t da, int64_t at_us, int32_t lon,
                                         int32_t lat, const char *kind, const char *adm1)
{
    struct tq_store_incident i = {.collection_id = coll,
                                  .date_added_us = da,
                                  .at_us = at_us,
                                  .lon_e7 = lon,
                                  .lat_e7 = lat,
                                  .where_prec = 1,
                                  .country = adm1 ? "IQ" : NULL,
                                  .adm1_pcode = adm1,
                                  .adm1_en = adm1 ? "Anbar" : NULL,
                                  .border_m = -1};

    snprintf(i.kind, sizeof(i.kind), "%s", kind);
    return i;
}

static void put_incident(struct tq_store *s, const struct tq_store_incident *i)
{
    struct tq_err err = {0};

    must(tq_store_incident_put(s, i, &err), &err, "incident put");
}

/* What a page delivered. */
#define GOT_MAX 256
struct got {
    size_t n;
    int64_t iid[GOT_MAX], at_us[GOT_MAX], version_us[GOT_MAX];
    char kind[GOT_MAX][TQ_INCIDENT_KIND_MAX];
    char origin[GOT_MAX][32];
    bool json[GOT_MAX];
};

static tq_rc on_incident(void *ud, const struct tq_store_incident *row)
{
    struct got *g = ud;

    assert_true(g->n < GOT_MAX);
    g->iid[g->n] = row->iid;
    g->at_us[g->n] = row->at_us;
    g->version_us[g->n] = row->version_us;
    snprintf(g->kind[g->n], sizeof(g->kind[0]), "%s", row->kind);
    snprintf(g->origin[g->n], sizeof(g->origin[0]), "%s", row->origin ? row->origin : "");
    g->json[g->n] = row->json != NULL && row->json_len == strlen(row->json);
    assert_non_null(row->collection_id);
    assert_non_null(row->object_id);
    g->n++;
    return TQ_OK;
}

/* One page of q; *more returned. */
static size_t page(struct tq_store *s, const struct tq_store_incident_query *q, struct got *g,
                   bool *more)
{
    struct tq_err err = {0};

    memset(g, 0, sizeof(*g));
    must(tq_store_incidents(s, q, on_incident, g, more, &err), &err, "incidents");
    return g->n;
}

/* ---- units ---------------------------------------------------------------------------- */

static void units_put_replace_list_delete(void **state)
{
    struct fixture *f = *state;
    struct tq_store_geo_unit u[3] = {
        {.level = 0,
         .pcode = "IQ",
         .country_pcode = "IQ",
         .country_en = "Iraq",
         .geometry = "{\"type\":\"Polygon\"}",
         .loaded_us = 5},
        {.level = 1,
         .pcode = "IQ01",
         .country_pcode = "IQ",
         .name_en = "Anbar",
         .name_ar = "\xd8\xa7\xd9\x84\xd8\xa3\xd9\x86\xd8\xa8\xd8\xa7\xd8\xb1",
         .geometry = "{}",
         .repaired = true,
         .source = "iq.geojson"},
        {.level = 1,
         .pcode = "SY01",
         .country_pcode = "SY",
         .name_en = "Damascus",
         .geometry = "{}"},
    };
    struct tq_store_geo_unit *v = NULL;
    size_t n = 0, deleted = 0;
    struct tq_err err = {0};

    must(tq_store_geo_units_put(f->store, u, 3, &err), &err, "units put");
    must(tq_store_geo_units_list(f->store, &v, &n, &err), &err, "units list");
    assert_int_equal(n, 3);
    assert_string_equal(v[0].pcode, "IQ");
    assert_int_equal(v[0].loaded_us, 5);
    assert_string_equal(v[1].pcode, "IQ01");
    assert_true(v[1].repaired);
    assert_string_equal(v[1].name_ar, u[1].name_ar);
    assert_string_equal(v[1].source, "iq.geojson");
    assert_true(v[1].loaded_us > 1700000000000000); /* 0: now */
    assert_null(v[2].source);
    tq_store_geo_units_free(v, n);

    u[1].name_en = "Al Anbar";
    must(tq_store_geo_units_put(f->store, &u[1], 1, &err), &err, "unit replace");
    must(tq_store_geo_units_list(f->store, &v, &n, &err), &err, "units list");
    assert_int_equal(n, 3);
    assert_string_equal(v[1].name_en, "Al Anbar");
    tq_store_geo_units_free(v, n);

    must(tq_store_geo_units_delete(f->store, "IQ", &deleted, &err), &err, "delete IQ");
    assert_int_equal(deleted, 2);
    must(tq_store_geo_units_list(f->store, &v, &n, &err), &err, "units list");
    assert_int_equal(n, 1);
    assert_string_equal(v[0].pcode, "SY01");
    tq_store_geo_units_free(v, n);
    must(tq_store_geo_units_delete(f->store, NULL, &deleted, &err), &err, "delete all");
    assert_int_equal(deleted, 1);
    assert_int_equal(
        tq_store_geo_units_put(f->store, &(struct tq_store_geo_unit){.pcode = "X"}, 1, &err),
        TQ_EINVAL);
}

/* ---- incidents ------------------------------------------------------------------------ */

static void incident_put_and_filters(void **state)
{
    struct fixture *f = *state;
    struct tq_store_incident_query q = {.limit = 100};
    struct tq_store_incident i;
    struct got g;
    bool more = true;
    struct tq_err err = {0};
    int64_t d1 = put_version(f->store, COLL_ID, 1, 1000, "", NULL);
    int64_t d2 = put_version(f->store, COLL_ID, 2, 1000, "", "alpha");
    int64_t d3 = put_version(f->store, COLL_ID, 3, 1000, "", NULL);
    int64_t iid1;

    /* No such version: nothing written. */
    i = incident(COLL_ID, d3 + 1000, 10, 0, 0, "event", NULL);
    assert_int_equal(tq_store_incident_put(f->store, &i, &err), TQ_ENOTFOUND);
    i = incident(UNKNOWN_ID, d1, 10, 0, 0, "event", NULL);
    assert_int_equal(tq_store_incident_put(f->store, &i, &err), TQ_ENOTFOUND);

    i = incident(COLL_ID, d1, 100, 430000000, 340000000, "event", "IQ01");
    put_incident(f->store, &i);
    i = incident(COLL_ID, d2, 200, 380000000, 350000000, "sighting", "SY01");
    put_incident(f->store, &i);
    i = incident(COLL_ID, d3, 300, 420000000, 330000000, "event", NULL);
    put_incident(f->store, &i);

    /* Newest first, every field read back. */
    assert_int_equal(page(f->store, &q, &g, &more), 3);
    assert_false(more);
    assert_int_equal(g.at_us[0], 300);
    assert_int_equal(g.at_us[1], 200);
    assert_int_equal(g.at_us[2], 100);
    assert_string_equal(g.origin[1], "alpha");
    assert_false(g.json[0]);
    iid1 = g.iid[2];

    /* Re-put replaces the tagging of the same row (same iid) and moves its point. */
    i = incident(COLL_ID, d1, 150, 440000000, 360000000, "battle", "IQ02");
    put_incident(f->store, &i);
    q.kind = "battle";
    q.with_json = true;
    assert_int_equal(page(f->store, &q, &g, &more), 1);
    assert_int_equal(g.iid[0], iid1);
    assert_int_equal(g.at_us[0], 150);
    assert_true(g.json[0]);
    q.kind = "event";
    q.with_json = false;
    assert_int_equal(page(f->store, &q, &g, &more), 1);
    assert_int_equal(g.at_us[0], 300);
    q.kind = NULL;

    q.adm1_pcode = "SY01";
    assert_int_equal(page(f->store, &q, &g, &more), 1);
    assert_int_equal(g.at_us[0], 200);
    q.adm1_pcode = "IQ01"; /* replaced */
    assert_int_equal(page(f->store, &q, &g, &more), 0);
    q.adm1_pcode = NULL;

    q.since_us = 150;
    q.until_us = 300;
    assert_int_equal(page(f->store, &q, &g, &more), 2);
    assert_int_equal(g.at_us[0], 200);
    assert_int_equal(g.at_us[1], 150);
    q.since_us = q.until_us = 0;

    q.origin = "";
    assert_int_equal(page(f->store, &q, &g, &more), 2);
    q.origin = "alpha";
    assert_int_equal(page(f->store, &q, &g, &more), 1);
    assert_int_equal(g.at_us[0], 200);
    q.origin = "bravo";
    assert_int_equal(page(f->store, &q, &g, &more), 0);
    q.origin = NULL;

    /* The box: inclusive bounds, through the spatial index, after the move. */
    q.has_bbox = true;
    q.min_lon_e7 = 420000000;
    q.max_lon_e7 = 440000000;
    q.min_lat_e7 = 330000000;
    q.max_lat_e7 = 360000000;
    assert_int_equal(page(f->store, &q, &g, &more), 2);
    assert_int_equal(g.at_us[0], 300);
    assert_int_equal(g.at_us[1], 150);
    /* The moved point falls out; its old place (43.0, 34.0), still inside, is forgotten. */
    q.max_lon_e7 = 439999999;
    q.max_lat_e7 = 359999999;
    assert_int_equal(page(f->store, &q, &g, &more), 1);
    assert_int_equal(g.at_us[0], 300);
    q.min_lon_e7 = 0;
    q.max_lon_e7 = 1;
    assert_int_equal(page(f->store, &q, &g, &more), 0);
    q.has_bbox = false;

    q.limit = 0;
    assert_int_equal(tq_store_incidents(f->store, &q, on_incident, &g, &more, &err), TQ_EINVAL);
    q.limit = TQ_STORE_INCIDENTS_PAGE_MAX + 1;
    assert_int_equal(tq_store_incidents(f->store, &q, on_incident, &g, &more, &err), TQ_EINVAL);
}

/* Pages of every size over 40 incidents with ties on at_us: no duplicate, no gap, exact more. */
static void incident_paging(void **state)
{
    struct fixture *f = *state;
    int64_t all_at[40], all_iid[40];
    size_t total = 0;
    struct got g;
    bool more;

    for (unsigned k = 0; k < 40; k++) {
        int64_t da = put_version(f->store, COLL_ID, k, 1000, "", NULL);
        struct tq_store_incident i =
            incident(COLL_ID, da, 1000 + (int64_t)(k / 3), (int32_t)k * 1000, 0, "event", NULL);

        put_incident(f->store, &i);
    }
    {
        struct tq_store_incident_query q = {.limit = 100};

        assert_int_equal(page(f->store, &q, &g, &more), 40);
        assert_false(more);
        for (size_t k = 0; k < 40; k++) {
            all_at[k] = g.at_us[k];
            all_iid[k] = g.iid[k];
            if (k)
                assert_true(all_at[k] < all_at[k - 1] ||
                            (all_at[k] == all_at[k - 1] && all_iid[k] < all_iid[k - 1]));
        }
    }
    for (size_t limit = 1; limit <= 41; limit += (limit < 10 ? 1 : 10)) {
        struct tq_store_incident_query q = {.limit = limit};

        total = 0;
        for (;;) {
            size_t n = page(f->store, &q, &g, &more);

            for (size_t k = 0; k < n; k++, total++) {
                assert_true(total < 40);
                assert_int_equal(g.iid[k], all_iid[total]);
            }
            assert_int_equal(more, total < 40);
            if (!more)
                break;
            q.has_cursor = true;
            q.cursor_at_us = g.at_us[n - 1];
            q.cursor_iid = g.iid[n - 1];
        }
        assert_int_equal(total, 40);
    }
}

/* Walk every page of q (limit as set) into ids; returns how many. */
static size_t walk(struct tq_store *s, struct tq_store_incident_query q, int64_t *ids, size_t max)
{
    size_t total = 0;
    struct got g;
    bool more;

    for (;;) {
        size_t n = page(s, &q, &g, &more);

        for (size_t k = 0; k < n; k++) {
            assert_true(total < max);
            ids[total++] = g.iid[k];
        }
        if (!more)
            return total;
        assert_true(n > 0);
        q.has_cursor = true;
        q.cursor_at_us = g.at_us[n - 1];
        q.cursor_iid = g.iid[n - 1];
    }
}

static const struct tq_store_reader ALICE_BOX = {.perm_key = "alice"};

/*
 * A box is answered in batches of ids by time, each joined to its versions and filtered
 * (store/monitor.c): over 700 incidents in a box, two thirds of them in a collection alice may
 * not read and ties on at_us, every page size walks exactly the rows the time walk (no box)
 * gives her, in the same order, for her and for the node; a kind filter and the box's edges too.
 */
static void box_batches_match_the_time_walk(void **state)
{
    struct fixture *f = *state;
    static int64_t want[800], got[800];
    size_t n_want, n_got;

    for (unsigned k = 0; k < 700; k++) {
        const char *coll = k % 3 == 0 ? COLL_ID : COLL2_ID;
        int64_t da = put_version(f->store, coll, 100 + k, 1000, "", NULL);
        struct tq_store_incident i =
            incident(coll, da, 5000 + (int64_t)(k / 4), 400000000 + (int32_t)(k % 50) * 1000,
                     340000000 + (int32_t)(k / 50) * 1000, k % 2 ? "seizure" : "attack", NULL);

        put_incident(f->store, &i);
    }
    /* One outside the box, newest of all. */
    {
        int64_t da = put_version(f->store, COLL_ID, 99, 1000, "", NULL);
        struct tq_store_incident i =
            incident(COLL_ID, da, 9999, 420000000, 340000000, "attack", NULL);

        put_incident(f->store, &i);
    }
    for (int who = 0; who < 2; who++) {
        for (int kind = 0; kind < 2; kind++) {
            struct tq_store_incident_query q = {.limit = 200};

            q.reader = who ? &ALICE_BOX : NULL;
            q.kind = kind ? "seizure" : NULL;
            q.has_bbox = true;
            q.min_lon_e7 = 400000000;
            q.max_lon_e7 = 400049000; /* the edges are inside */
            q.min_lat_e7 = 340000000;
            q.max_lat_e7 = 340013000;
            n_want = walk(f->store,
                          (struct tq_store_incident_query){.reader = q.reader,
                                                           .kind = q.kind,
                                                           .since_us = 1,
                                                           .until_us = 9000,
                                                           .limit = 200},
                          want, 800);
            assert_int_equal(n_want, who ? (kind ? 117 : 234) : (kind ? 350 : 700));
            for (size_t limit = 1; limit <= GOT_MAX; limit += limit < 5 ? 1 : 37) {
                q.limit = limit;
                n_got = walk(f->store, q, got, 800);
                assert_int_equal(n_got, n_want);
                assert_memory_equal(got, want, n_got * sizeof(got[0]));
            }
        }
    }
}

static const struct tq_store_reader ALICE = {.perm_key = "alice"};
static const struct tq_store_reader BOB = {.perm_key = "bob"};
static const struct tq_store_reader ALPHA = {.perm_key = "partner:alpha", .partner = "alpha"};
static const struct tq_store_reader BRAVO = {.perm_key = "partner:bravo", .partner = "bravo"};
static const struct tq_store_reader NOBODY = {.perm_key = "partner:zulu", .partner = "zulu"};

/*
 * Indicator 1 has versions 1000 (released to alpha) and 2000 (released to bravo only), each
 * with its incident; indicator 2 in COLL2 (alice may not read it). The node sees the latest
 * versions; alice the latest in COLL; alpha sees version 1000, the latest released to it;
 * bravo version 2000; bob and an unknown partner nothing; and a page never says more over
 * rows it withholds.
 */
static void incident_reader_filter(void **state)
{
    struct fixture *f = *state;
    int64_t d1 = put_version(f->store, COLL_ID, 1, 1000, "a", NULL);
    int64_t d2 = put_version(f->store, COLL_ID, 1, 2000, "b", NULL);
    int64_t d3 = put_version(f->store, COLL2_ID, 2, 1000, "ab", NULL);
    struct tq_store_incident i;
    struct tq_store_incident_query q = {.limit = 10};
    struct got g;
    bool more;

    i = incident(COLL_ID, d1, 100, 0, 0, "event", NULL);
    put_incident(f->store, &i);
    i = incident(COLL_ID, d2, 200, 0, 0, "event", NULL);
    put_incident(f->store, &i);
    i = incident(COLL2_ID, d3, 300, 0, 0, "event", NULL);
    put_incident(f->store, &i);

    assert_int_equal(page(f->store, &q, &g, &more), 2); /* the node: latest versions */
    assert_int_equal(g.version_us[0], 1000);            /* COLL2's indicator 2 */
    assert_int_equal(g.version_us[1], 2000);
    q.reader = &ALICE;
    assert_int_equal(page(f->store, &q, &g, &more), 1);
    assert_int_equal(g.version_us[0], 2000);
    assert_int_equal(g.at_us[0], 200);
    q.reader = &BOB;
    assert_int_equal(page(f->store, &q, &g, &more), 0);
    assert_false(more);
    q.reader = &ALPHA;
    assert_int_equal(page(f->store, &q, &g, &more), 1);
    assert_int_equal(g.version_us[0], 1000);
    assert_int_equal(g.at_us[0], 100);
    q.reader = &BRAVO;
    assert_int_equal(page(f->store, &q, &g, &more), 1);
    assert_int_equal(g.version_us[0], 2000);
    q.reader = &NOBODY;
    assert_int_equal(page(f->store, &q, &g, &more), 0);

    /* Limit 1 over withheld rows: one row and no more, for alice and for alpha. */
    q.limit = 1;
    q.reader = &ALICE;
    assert_int_equal(page(f->store, &q, &g, &more), 1);
    assert_false(more);
    q.reader = &ALPHA;
    assert_int_equal(page(f->store, &q, &g, &more), 1);
    assert_false(more);
    q.reader = &BOB;
    assert_int_equal(page(f->store, &q, &g, &more), 0);
    assert_false(more);
    q.reader = NULL;
    assert_int_equal(page(f->store, &q, &g, &more), 1);
    assert_true(more);
}

/* What a summary gave: counts per (cell, kind) and per bin. */
struct sum {
    size_t n_cells, n_bins;
    int64_t cx[16], cy[16], count[16], bin[16], bin_count[16];
    char kind[16][TQ_INCIDENT_KIND_MAX];
    int64_t total;
};

static tq_rc on_cell(void *ud, const struct tq_store_incident_cell *c)
{
    struct sum *s = ud;

    assert_true(s->n_cells < 16);
    s->cx[s->n_cells] = c->cx;
    s->cy[s->n_cells] = c->cy;
    s->count[s->n_cells] = c->count;
    snprintf(s->kind[s->n_cells], sizeof(s->kind[0]), "%s", c->kind);
    assert_int_equal(c->sum_lon_e7 / c->count / 10000000, c->sum_lon_e7 / c->count / 10000000);
    s->total += c->count;
    s->n_cells++;
    return TQ_OK;
}

static tq_rc on_bin(void *ud, int64_t bin, int64_t count)
{
    struct sum *s = ud;

    assert_true(s->n_bins < 16);
    s->bin[s->n_bins] = bin;
    s->bin_count[s->n_bins++] = count;
    return TQ_OK;
}

static int64_t sum_count(const struct sum *s, int64_t cx, int64_t cy, const char *kind)
{
    for (size_t i = 0; i < s->n_cells; i++)
        if (s->cx[i] == cx && s->cy[i] == cy && strcmp(s->kind[i], kind) == 0)
            return s->count[i];
    return 0;
}

static int64_t bin_count(const struct sum *s, int64_t bin)
{
    for (size_t i = 0; i < s->n_bins; i++)
        if (s->bin[i] == bin)
            return s->bin_count[i];
    return 0;
}

/* The map's summary counts per cell, kind and bin, through the same reader filter as a page. */
static void incident_summary(void **state)
{
    struct fixture *f = *state;
    int64_t d1 = put_version(f->store, COLL_ID, 1, 1000, "a", NULL);
    int64_t d2 = put_version(f->store, COLL_ID, 2, 1000, "b", NULL);
    int64_t d3 = put_version(f->store, COLL_ID, 3, 1000, "b", NULL);
    int64_t d3b = put_version(f->store, COLL_ID, 3, 2000, "b", NULL); /* a newer version of 3 */
    int64_t d4 = put_version(f->store, COLL2_ID, 4, 1000, "ab", NULL);
    struct tq_store_incident_summary_query q = {
        .cell_e7 = 10000000, .bin_us = 1000, .bin_origin_us = 0}; /* 1 degree, 1 ms */
    struct tq_store_incident i;
    struct tq_err err = {0};
    struct sum s;

    /* Cells are counted from (-180, -90): lon 40.5 is cell 220, lat 34.2 cell 124. */
    i = incident(COLL_ID, d1, 100, 405000000, 342000000, "seizure", NULL);
    put_incident(f->store, &i);
    i = incident(COLL_ID, d2, 1500, 405500000, 342500000, "seizure", NULL);
    put_incident(f->store, &i);
    i = incident(COLL_ID, d3, 1600, 405500000, 342500000, "crossing", NULL);
    put_incident(f->store, &i);
    i = incident(COLL_ID, d3b, 1700, 405500000, 342500000, "crossing", NULL); /* counted once */
    put_incident(f->store, &i);
    i = incident(COLL2_ID, d4, 2500, -10000000, -5000000, "seizure", NULL); /* (-1, -0.5) */
    put_incident(f->store, &i);

    memset(&s, 0, sizeof(s));
    must(tq_store_incidents_summary(f->store, &q, on_cell, on_bin, &s, &err), &err, "summary");
    assert_int_equal(s.total, 4);
    assert_int_equal(sum_count(&s, 220, 124, "seizure"), 2);
    assert_int_equal(sum_count(&s, 220, 124, "crossing"), 1);
    assert_int_equal(sum_count(&s, 179, 89, "seizure"), 1);
    assert_int_equal(bin_count(&s, 0), 1);
    assert_int_equal(bin_count(&s, 1), 2);
    assert_int_equal(bin_count(&s, 2), 1);

    /* alice reads COLL only; bob reads nothing; nobody is counted outside the filter. */
    q.reader = &ALICE;
    memset(&s, 0, sizeof(s));
    must(tq_store_incidents_summary(f->store, &q, on_cell, on_bin, &s, &err), &err, "summary");
    assert_int_equal(s.total, 3);
    assert_int_equal(sum_count(&s, 179, 89, "seizure"), 0);
    q.reader = &BOB;
    memset(&s, 0, sizeof(s));
    must(tq_store_incidents_summary(f->store, &q, on_cell, on_bin, &s, &err), &err, "summary");
    assert_int_equal(s.total, 0);
    assert_int_equal(s.n_bins, 0);

    /* Filters: a box, a kind, a time range. */
    q.reader = NULL;
    q.has_bbox = true;
    q.min_lon_e7 = 400000000, q.min_lat_e7 = 340000000;
    q.max_lon_e7 = 410000000, q.max_lat_e7 = 350000000;
    q.kind = "seizure";
    q.since_us = 1000;
    memset(&s, 0, sizeof(s));
    must(tq_store_incidents_summary(f->store, &q, on_cell, on_bin, &s, &err), &err, "summary");
    assert_int_equal(s.total, 1);
    assert_int_equal(bin_count(&s, 1), 1);

    q.cell_e7 = 0;
    assert_int_equal(tq_store_incidents_summary(f->store, &q, on_cell, on_bin, &s, &err),
                     TQ_EINVAL);
}

/* An alarm is acknowledged once, by a user, and stays kept. */
static void alarm_ack(void **state)
{
    struct fixture *f = *state;
    struct tq_store_alarm a = {
        .origin = "alpha.example/log", .reason = "inconsistent", .new_note = "note\n"};
    struct tq_store_alarm *v = NULL;
    struct tq_err err = {0};
    int64_t id = 0;
    size_t n = 0;

    snprintf(a.partner, sizeof(a.partner), "alpha");
    must(tq_store_alarm_add(f->store, &a, &id, &err), &err, "alarm add");
    assert_true(id > 0);
    must(tq_store_alarm_list(f->store, &v, &n, &err), &err, "alarm list");
    assert_int_equal(n, 1);
    assert_null(v[0].acked_by);
    assert_int_equal(v[0].acked_us, 0);
    tq_store_alarm_list_free(v, n);

    must(tq_store_alarm_ack(f->store, id, "alice", &err), &err, "alarm ack");
    assert_int_equal(tq_store_alarm_ack(f->store, id, "bob", &err), TQ_EEXIST);
    assert_int_equal(tq_store_alarm_ack(f->store, id + 1, "bob", &err), TQ_ENOTFOUND);
    must(tq_store_alarm_list(f->store, &v, &n, &err), &err, "alarm list");
    assert_int_equal(n, 1);
    assert_string_equal(v[0].acked_by, "alice");
    assert_true(v[0].acked_us > 0);
    tq_store_alarm_list_free(v, n);
}

/* Count rows through SQL beside the store. */
static long count_rows(struct fixture *f, const char *sqlite_sql, const char *pg_sql)
{
    char out[32] = "";

    assert_int_equal(backend_exec(f->dir, f->path, sqlite_sql, pg_sql, out, sizeof(out)), 0);
    return strtol(out, NULL, 10);
}

/* Deleting a version removes its incident, its spatial index entry and its occurrences. */
static void delete_cascades(void **state)
{
    struct fixture *f = *state;
    int64_t d1 = put_version(f->store, COLL_ID, 1, 1000, "", NULL);
    int64_t d2 = put_version(f->store, COLL_ID, 2, 1000, "", NULL);
    struct tq_store_incident i1 = incident(COLL_ID, d1, 100, 5, 5, "event", NULL);
    struct tq_store_incident i2 = incident(COLL_ID, d2, 200, 6, 6, "event", NULL);
    struct tq_store_occurrence occ[2] = {{1, "198.51.100.1"}, {2, "example.org"}};
    struct tq_store_query dq = {.collection_id = COLL_ID,
                                .object_id = "indicator--00000001-0000-4000-8000-000000000000",
                                .version_flags = TQ_MATCH_ALL};
    size_t deleted = 0;
    struct tq_err err = {0};

    put_incident(f->store, &i1);
    put_incident(f->store, &i2);
    must(tq_store_correl_put(f->store, COLL_ID, d1, occ, 2, &err), &err, "correl");
    must(tq_store_correl_put(f->store, COLL_ID, d2, occ, 1, &err), &err, "correl");
    assert_int_equal(count_rows(f, "SELECT count(*) FROM incidents_rtree",
                                "SELECT count(*) FROM incidents WHERE geom IS NOT NULL"),
                     2);
    must(tq_store_delete(f->store, &dq, &deleted, &err), &err, "delete");
    assert_int_equal(deleted, 1);
    assert_int_equal(
        count_rows(f, "SELECT count(*) FROM incidents", "SELECT count(*) FROM incidents"), 1);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM incidents_rtree",
                                "SELECT count(*) FROM incidents WHERE geom IS NOT NULL"),
                     1);
    assert_int_equal(count_rows(f,
                                "SELECT count(*) FROM incidents_rtree WHERE id = (SELECT iid "
                                "FROM incidents)",
                                "SELECT count(*) FROM incidents"),
                     1);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM correl", "SELECT count(*) FROM correl"),
                     1);
}

/* Sightings a find delivered. */
struct sights {
    size_t n;
    int64_t date_added[64];
    char origin[64][16];
};

static tq_rc on_sight(void *ud, const struct tq_store_sighting *s)
{
    struct sights *v = ud;

    if (v->n < 64) {
        v->date_added[v->n] = s->date_added_us;
        snprintf(v->origin[v->n], sizeof(v->origin[0]), "%s", s->origin ? s->origin : "");
        assert_string_equal(s->type, "indicator");
    }
    v->n++;
    return TQ_OK;
}

static size_t find(struct tq_store *s, const struct tq_store_reader *r, int kind, const char *value,
                   size_t limit, struct sights *v, bool *more)
{
    struct tq_err err = {0};

    memset(v, 0, sizeof(*v));
    must(tq_store_correl_find(s, r, kind, value, limit, on_sight, v, more, &err), &err, "find");
    return v->n;
}

static void correl_put_find_replace(void **state)
{
    struct fixture *f = *state;
    int64_t d1 = put_version(f->store, COLL_ID, 1, 1000, "a", NULL);
    int64_t d2 = put_version(f->store, COLL_ID, 1, 2000, "b", "bravo");
    int64_t d3 = put_version(f->store, COLL2_ID, 3, 1000, "", NULL);
    struct tq_store_occurrence ip = {1, "198.51.100.1"}, dom = {2, "example.org"};
    struct tq_store_occurrence both[3] = {ip, dom, ip}; /* a repeat is kept once */
    struct sights v;
    bool more;
    struct tq_err err = {0};

    assert_int_equal(tq_store_correl_put(f->store, COLL_ID, d3 + 99, &ip, 1, &err), TQ_ENOTFOUND);
    must(tq_store_correl_put(f->store, COLL_ID, d1, both, 3, &err), &err, "correl");
    must(tq_store_correl_put(f->store, COLL_ID, d2, both, 2, &err), &err, "correl");
    must(tq_store_correl_put(f->store, COLL2_ID, d3, &ip, 1, &err), &err, "correl");

    /* The node: the latest version of each object, newest date_added first. */
    assert_int_equal(find(f->store, NULL, 1, "198.51.100.1", 10, &v, &more), 2);
    assert_false(more);
    assert_int_equal(v.date_added[0], d3);
    assert_int_equal(v.date_added[1], d2);
    assert_string_equal(v.origin[1], "bravo");
    assert_int_equal(find(f->store, NULL, 1, "198.51.100.1", 1, &v, &more), 1);
    assert_true(more);
    assert_int_equal(find(f->store, NULL, 2, "198.51.100.1", 10, &v, &more), 0); /* other kind */
    assert_int_equal(find(f->store, &ALICE, 1, "198.51.100.1", 10, &v, &more), 1);
    assert_int_equal(v.date_added[0], d2);
    assert_int_equal(find(f->store, &BOB, 1, "198.51.100.1", 1, &v, &more), 0);
    assert_false(more);
    assert_int_equal(find(f->store, &ALPHA, 1, "198.51.100.1", 1, &v, &more), 1);
    assert_int_equal(v.date_added[0], d1);
    assert_false(more);
    assert_int_equal(find(f->store, &BRAVO, 2, "example.org", 10, &v, &more), 1);
    assert_int_equal(v.date_added[0], d2);

    /* Replace: d2 now mentions only the domain. */
    must(tq_store_correl_put(f->store, COLL_ID, d2, &dom, 1, &err), &err, "correl replace");
    assert_int_equal(find(f->store, &ALICE, 1, "198.51.100.1", 10, &v, &more), 0);
    assert_int_equal(find(f->store, &ALICE, 2, "example.org", 10, &v, &more), 1);
    must(tq_store_correl_put(f->store, COLL_ID, d2, NULL, 0, &err), &err, "correl clear");
    assert_int_equal(find(f->store, NULL, 2, "example.org", 10, &v, &more), 0);
}

/* One value mentioned by 10,000 versions: a page of any size, newest first, exact more. */
static void correl_many_occurrences(void **state)
{
    struct fixture *f = *state;
    enum { N = 10000, BATCH = 1000 };
    struct tq_stix_object *o = tq_xcalloc(BATCH, sizeof(*o));
    int64_t *da = tq_xcalloc(N, sizeof(*da));
    struct tq_store_occurrence occ = {3, "actor-x"};
    struct sights v;
    bool more;
    struct tq_err err = {0};

    for (unsigned b = 0; b < N / BATCH; b++) {
        for (unsigned k = 0; k < BATCH; k++)
            fixture_indicator(&o[k], b * BATCH + k, 1000);
        must(tq_store_put_ex(f->store, COLL_ID, o, NULL, BATCH, NULL, NULL, NULL, &da[b * BATCH],
                             &err),
             &err, "put");
        for (unsigned k = 0; k < BATCH; k++)
            tq_free(o[k].json);
    }
    for (unsigned k = 0; k < N; k++)
        must(tq_store_correl_put(f->store, COLL_ID, da[k], &occ, 1, &err), &err, "correl");
    assert_int_equal(find(f->store, NULL, 3, "actor-x", 50, &v, &more), 50);
    assert_true(more);
    for (unsigned k = 0; k < 50; k++)
        assert_int_equal(v.date_added[k], da[N - 1 - k]);
    assert_int_equal(find(f->store, &ALICE, 3, "actor-x", N, &v, &more), N);
    assert_false(more);
    assert_int_equal(find(f->store, &ALICE, 3, "actor-x", N - 1, &v, &more), N - 1);
    assert_true(more);
    assert_int_equal(find(f->store, &BOB, 3, "actor-x", 1, &v, &more), 0);
    assert_false(more);
    tq_free(o);
    tq_free(da);
}

/* ---- rules and alerts ----------------------------------------------------------------- */

static void rules_add_list_delete(void **state)
{
    struct fixture *f = *state;
    struct tq_store_alert_rule r = {.name = "near-border",
                                    .kind = "border",
                                    .params = "{\"m\":5000}",
                                    .created_by = "alice",
                                    .enabled = true};
    struct tq_store_alert_rule *v = NULL;
    int64_t id1 = 0, id2 = 0;
    size_t n = 0;
    struct tq_err err = {0};

    must(tq_store_alert_rule_add(f->store, &r, &id1, &err), &err, "rule add");
    assert_int_equal(tq_store_alert_rule_add(f->store, &r, &id2, &err), TQ_EEXIST);
    r.name = "anbar";
    r.kind = "governorate";
    r.enabled = false;
    r.created_by = NULL;
    must(tq_store_alert_rule_add(f->store, &r, &id2, &err), &err, "rule add");
    assert_true(id2 > id1);
    must(tq_store_alert_rule_list(f->store, &v, &n, &err), &err, "rule list");
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "anbar");
    assert_false(v[0].enabled);
    assert_null(v[0].created_by);
    assert_int_equal(v[1].id, id1);
    assert_string_equal(v[1].params, "{\"m\":5000}");
    assert_string_equal(v[1].created_by, "alice");
    assert_true(v[1].enabled);
    assert_true(v[1].created_us > 0);
    tq_store_alert_rules_free(v, n);
    must(tq_store_alert_rule_delete(f->store, "anbar", &err), &err, "rule delete");
    assert_int_equal(tq_store_alert_rule_delete(f->store, "anbar", &err), TQ_ENOTFOUND);
    must(tq_store_alert_rule_list(f->store, &v, &n, &err), &err, "rule list");
    assert_int_equal(n, 1);
    tq_store_alert_rules_free(v, n);
}

struct alerts_got {
    size_t n;
    int64_t id[32];
    size_t n_coll[32];
};

static tq_rc on_alert(void *ud, const struct tq_store_alert *a)
{
    struct alerts_got *g = ud;

    assert_true(g->n < 32);
    g->id[g->n] = a->id;
    g->n_coll[g->n] = a->n_collections;
    g->n++;
    return TQ_OK;
}

static size_t alerts(struct tq_store *s, const struct tq_store_alert_query *q, struct alerts_got *g,
                     bool *more)
{
    struct tq_err err = {0};

    memset(g, 0, sizeof(*g));
    must(tq_store_alerts(s, q, on_alert, g, more, &err), &err, "alerts");
    return g->n;
}

/*
 * Alerts 1..4: 1 and 2 name COLL (alice may read it), 3 names COLL and COLL2, 4 names none;
 * kinds border, border, hotspot, border.
 */
static void alerts_add_list_ack(void **state)
{
    struct fixture *f = *state;
    struct tq_store_alert a = {.rule = "r", .kind = "border", .title = "t", .detail = "{}"};
    struct tq_store_alert_query q = {.limit = 10};
    struct alerts_got g;
    int64_t id[4], dup = -1;
    bool more;
    struct tq_err err = {0};

    for (int k = 0; k < 4; k++) {
        char dedup[16];

        snprintf(dedup, sizeof(dedup), "d%d", k);
        a.dedup = dedup;
        a.kind = k == 2 ? "hotspot" : "border";
        a.n_collections = k == 3 ? 0 : k == 2 ? 2 : 1;
        a.collections[0] = COLL_ID;
        a.collections[1] = COLL2_ID;
        must(tq_store_alert_add(f->store, &a, &id[k], &err), &err, "alert add");
        assert_true(id[k] > (k ? id[k - 1] : 0));
    }
    a.dedup = "d1"; /* the same condition again: nothing written */
    must(tq_store_alert_add(f->store, &a, &dup, &err), &err, "alert dedup");
    assert_int_equal(dup, 0);
    a.dedup = NULL; /* no key: always kept */
    a.n_collections = TQ_ALERT_COLLECTIONS_MAX + 1;
    assert_int_equal(tq_store_alert_add(f->store, &a, &dup, &err), TQ_EINVAL);

    assert_int_equal(alerts(f->store, &q, &g, &more), 4);
    assert_false(more);
    assert_int_equal(g.id[0], id[0]);
    assert_int_equal(g.n_coll[2], 2);
    q.after_id = id[1];
    assert_int_equal(alerts(f->store, &q, &g, &more), 2);
    assert_int_equal(g.id[0], id[2]);
    q.after_id = 0;
    q.limit = 3;
    assert_int_equal(alerts(f->store, &q, &g, &more), 3);
    assert_true(more);
    q.newest_first = true;
    assert_int_equal(alerts(f->store, &q, &g, &more), 3);
    assert_true(more);
    assert_int_equal(g.id[0], id[3]);
    assert_int_equal(g.id[2], id[1]);
    q.before_id = id[1];
    assert_int_equal(alerts(f->store, &q, &g, &more), 1);
    assert_int_equal(g.id[0], id[0]);
    assert_false(more);
    q.before_id = 0;
    q.limit = 10;
    q.kind = "hotspot";
    assert_int_equal(alerts(f->store, &q, &g, &more), 1);
    assert_int_equal(g.id[0], id[2]);
    q.kind = NULL;

    /* Readers: alice sees the alerts of COLL and the one that names nothing. */
    q.reader = &ALICE;
    assert_int_equal(alerts(f->store, &q, &g, &more), 3);
    assert_int_equal(g.id[0], id[3]);
    assert_int_equal(g.id[1], id[1]);
    q.reader = &BOB;
    assert_int_equal(alerts(f->store, &q, &g, &more), 1);
    assert_int_equal(g.id[0], id[3]);
    q.reader = &ALPHA;
    assert_int_equal(alerts(f->store, &q, &g, &more), 0);
    assert_false(more);
    q.reader = &ALICE;
    q.limit = 2; /* alert 3 is withheld: it does not make a third row "more" */
    q.before_id = id[1];
    assert_int_equal(alerts(f->store, &q, &g, &more), 1);
    assert_false(more);
    q.before_id = 0;
    q.limit = 10;

    /* Acknowledgement. */
    assert_int_equal(tq_store_alert_ack(f->store, &ALICE, id[2], "alice", &err), TQ_ENOTFOUND);
    assert_int_equal(tq_store_alert_ack(f->store, &ALICE, id[3] + 100, "alice", &err),
                     TQ_ENOTFOUND);
    assert_int_equal(tq_store_alert_ack(f->store, &ALPHA, id[0], "alpha", &err), TQ_ENOTFOUND);
    must(tq_store_alert_ack(f->store, &ALICE, id[0], "alice", &err), &err, "ack");
    assert_int_equal(tq_store_alert_ack(f->store, &ALICE, id[0], "alice", &err), TQ_EEXIST);
    must(tq_store_alert_ack(f->store, NULL, id[2], "root", &err), &err, "ack by the node");
    q.unacked_only = true;
    q.reader = NULL;
    q.newest_first = false;
    assert_int_equal(alerts(f->store, &q, &g, &more), 2);
    assert_int_equal(g.id[0], id[1]);
    assert_int_equal(g.id[1], id[3]);
}

/* ---- retagging ------------------------------------------------------------------------ */

static tq_rc retag_even(void *ud, const struct tq_store_incident *row,
                        struct tq_store_incident *next, bool *changed)
{
    size_t *seen = ud;

    (*seen)++;
    if (row->at_us % 2 == 0) {
        next->adm1_pcode = "SY02";
        next->country = "SY";
        next->border_m = 77;
        next->tag_flags = 5;
        *changed = true;
    }
    return TQ_OK;
}

static void incidents_retag_all_rows(void **state)
{
    struct fixture *f = *state;
    struct tq_store_incident_query q = {.limit = 10, .adm1_pcode = "SY02"};
    size_t seen = 0, retagged = 0;
    struct got g;
    bool more;
    struct tq_err err = {0};

    /* 300 rows (more than a page of the walk), older versions included. */
    for (unsigned k = 0; k < 300; k++) {
        int64_t da = put_version(f->store, COLL_ID, k % 150, 1000 + k / 150, "", NULL);
        struct tq_store_incident i = incident(COLL_ID, da, k, 0, 0, "event", "IQ01");

        put_incident(f->store, &i);
    }
    must(tq_store_incidents_retag(f->store, retag_even, &seen, &retagged, &err), &err, "retag");
    assert_int_equal(seen, 300);
    assert_int_equal(retagged, 150);
    q.limit = 200;
    assert_int_equal(page(f->store, &q, &g, &more), 75); /* the latest versions only */
    q.adm1_pcode = "IQ01";
    assert_int_equal(page(f->store, &q, &g, &more), 75);
}

/* ---- SQLite: migration and plans -------------------------------------------------------- */

/* A version 5 file with a collection and an object is migrated to 6 at open, data kept. */
static void migrate_v5_to_v6(void **state)
{
    struct fixture *f = *state;
    char path[128];
    sqlite3 *db = NULL;
    struct tq_store *s;
    uint64_t count = 0;
    struct tq_store_incident i;
    struct tq_err err = {0};

    (void)f;
    if (backend_pg())
        skip();
    snprintf(path, sizeof(path), "%s/v5.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    for (int v = 0; v < 5; v++)
        assert_int_equal(sqlite3_exec(db, tq__store_sqlite_migrations[v], NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO collections(cid, id, title, last_date_added) VALUES "
                     "(1, '" COLL_ID "', 'Old', 500);"
                     "INSERT INTO objects(collection, id, version_us, date_added_us, type, "
                     "spec_version, is_first, is_last, json) VALUES (1, "
                     "'marking-definition--aaaaaaaa-0000-4000-8000-000000000000', 1, 500, "
                     "'marking-definition', '2.1', 1, 1, '{}');"
                     "PRAGMA user_version = 5",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    s = fixture_store_open(path);
    must(tq_store_count(s, COLL_ID, &count, &err), &err, "count");
    assert_int_equal(count, 1);
    i = incident(COLL_ID, 500, 1, 10, 10, "event", NULL);
    put_incident(s, &i);
    tq_store_close(s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    {
        sqlite3_stmt *st = NULL;

        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), TQ_STORE_SCHEMA_VERSION);
        sqlite3_finalize(st);
        assert_int_equal(
            sqlite3_prepare_v2(db, "SELECT count(*) FROM incidents_rtree", -1, &st, NULL),
            SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), 1);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
}

/* The query plan of a SQLite statement, its details joined by " / ". */
static void plan_of(sqlite3 *db, const char *sql, char *out, size_t n)
{
    char *text = tq_xmalloc(strlen(sql) + 32);
    sqlite3_stmt *st = NULL;
    size_t len = 0;

    snprintf(text, strlen(sql) + 32, "EXPLAIN QUERY PLAN %s", sql);
    if (sqlite3_prepare_v2(db, text, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW && len < n)
        len += (size_t)snprintf(out + len, n - len, "%s / ", sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    tq_free(text);
}

/*
 * The plans the store relies on: the first page walks (at_us, iid) backwards without a sort,
 * the box is read from the R*Tree, a governorate from its index, a value's occurrences are one
 * range of correl's key in answer order, and a marking is found through objects_marking.
 */
static void sqlite_plans(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = NULL;
    char plan[2048];

    if (backend_pg())
        skip();
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    plan_of(db, tq__store_sqlite_sql[ST_INCIDENTS], plan, sizeof(plan));
    if (!strstr(plan, " i USING INDEX incidents_at") || strstr(plan, "TEMP B-TREE"))
        fail_msg("incidents: %s", plan);
    plan_of(db, tq__store_sqlite_sql[ST_INCIDENTS_BBOX], plan, sizeof(plan));
    if (!strstr(plan, "SCAN t VIRTUAL TABLE INDEX"))
        fail_msg("incidents in a box: %s", plan);
    plan_of(db, tq__store_sqlite_sql[ST_INCIDENTS_ADM1], plan, sizeof(plan));
    if (!strstr(plan, "USING INDEX incidents_adm1 (adm1_pcode=?") || strstr(plan, "TEMP B-TREE"))
        fail_msg("incidents of a governorate: %s", plan);
    plan_of(db, tq__store_sqlite_sql[ST_CORREL_FIND], plan, sizeof(plan));
    if (!strstr(plan, "SEARCH k USING PRIMARY KEY (kind=? AND value=?)") ||
        strstr(plan, "TEMP B-TREE"))
        fail_msg("correlation lookup: %s", plan);
    plan_of(db, tq__store_sqlite_sql[ST_MARKING_GET], plan, sizeof(plan));
    if (!strstr(plan, "objects_marking"))
        fail_msg("marking lookup: %s", plan);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(units_put_replace_list_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(incident_put_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(incident_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(box_batches_match_the_time_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(incident_reader_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(incident_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(alarm_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_cascades, setup, teardown),
        cmocka_unit_test_setup_teardown(correl_put_find_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(correl_many_occurrences, setup, teardown),
        cmocka_unit_test_setup_teardown(rules_add_list_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(alerts_add_list_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(incidents_retag_all_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(migrate_v5_to_v6, setup, teardown),
        cmocka_unit_test_setup_teardown(sqlite_plans, setup, teardown),
    };

    fprintf(stderr, "monitor store on %s\n", backend_name());
    return cmocka_run_group_tests(tests, NULL, NULL);
}
