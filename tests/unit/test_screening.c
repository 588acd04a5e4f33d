/* SPDX-License-Identifier: Apache-2.0
 *
 * tests/unit/test_screening.c - the screening service over stored watchlists: a CSV list and
 * the UN list (from TANSIQ_TESTDATA) screened with facts and explanations, the cache rebuilt
 * when a list changes, a stix list following its collection and filtered by who may read each
 * entry's object (a partner's release, a user's permission), batches with bad rows, and the
 * screening alert rule. On the backend of tests/unit/backend.h (TQ_TEST_STORE=postgres).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tansiq/alerts.h"
#include "tansiq/screening.h"
#include "tansiq/store.h"
#include "tansiq/watchlist.h"
#include "backend.h"
#include "fixture.h"

#define UN_FILE "sanctions/un-sc-consolidated-2024-09-26.shared.xml"
#define COLL_ID "11111111-2222-4333-8444-555555555555"

static size_t skipped;

static const char *testdata(void)
{
    const char *d = getenv("TANSIQ_TESTDATA");

    return d && *d ? d : "../shared/data";
}

static void must(tq_rc rc, const struct tq_err *err, const char *what)
{
    if (rc)
        fail_msg("%s: %s (%s)", what, err->msg, tq_rc_str(rc));
}

struct fixture {
    char dir[64];
    char path[256];
    struct tq_store *store;
    struct tq_screening *s;
};

static int setup(void **state)
{
    struct fixture *f = tq_xcalloc(1, sizeof(*f));
    struct tq_collection c = {0};
    struct tq_err err = {0};

    snprintf(f->dir, sizeof(f->dir), "/tmp/tq-screening-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    backend_target(f->dir, f->path, sizeof(f->path));
    f->store = fixture_store_open(f->path);
    snprintf(c.id, sizeof(c.id), "%s", COLL_ID);
    c.title = "Partner list";
    c.alias = "shared";
    must(tq_store_collection_add(f->store, &c, &err), &err, "collection");
    must(tq_screening_new(f->store, &f->s, &err), &err, "screening");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tq_screening_free(f->s);
    tq_store_close(f->store);
    backend_target_drop(f->dir);
    tmpdir_remove(f->dir);
    tq_free(f);
    return 0;
}

static void put_csv(struct tq_store *store, const char *list, const char *csv)
{
    struct tq_watch_entry *v = NULL;
    struct tq_err err = {0};
    size_t n = 0;

    must(tq_watchlist_parse_csv(tq_str_c(csv), NULL, &v, &n, &err), &err, "csv");
    must(tq_store_watchlist_put(
             store,
             &(struct tq_store_watchlist){.name = (char *)list, .source = "t.csv", .format = "csv"},
             v, n, NULL, &err),
         &err, "put list");
    tq_watch_entries_free(v, n);
}

static const char *CSV = "ref,name,aliases,dob,nationality,kind\n"
                         "W-1,Abu Mohammed al-Julani,Ahmed Hussein al-Sharaa,1982,SY,individual\n"
                         "W-2,Ibrahim Awad al-Badri,Abu Bakr al-Baghdadi,1971,IQ,individual\n"
                         "W-3,Omar Hassan Khalil,,1965,JO,individual\n";

static void csv_list(void **state)
{
    struct fixture *f = *state;
    struct tq_screening_answer a = {0};
    struct tq_err err = {0};
    struct tq_buf b;

    put_csv(f->store, "wanted", CSV);
    must(tq_screening_query(f->s,
                            &(struct tq_screening_query){.name = TQ_STR("Abu Muhammad al-Jawlani"),
                                                         .dob = TQ_STR("1982"),
                                                         .nationality = TQ_STR("Syria")},
                            &a, &err),
         &err, "query");
    assert_int_equal(a.lists, 1);
    assert_true(a.n_hits >= 1);
    assert_string_equal(a.hits[0].list, "wanted");
    assert_string_equal(a.hits[0].ref, "W-1");
    assert_string_equal(a.hits[0].name, "Abu Mohammed al-Julani");
    assert_true(a.hits[0].score >= TQ_SCREEN_THRESHOLD && a.hits[0].score <= 1.0);
    assert_int_equal(a.hits[0].result.year_effect, 1);
    assert_int_equal(a.hits[0].result.country_effect, 1);
    assert_string_equal(a.facts.country, "SY");
    tq_buf_init(&b, 1 << 20);
    must(tq_screening_answer_json(&a, true, &b), NULL, "json");
    assert_non_null(strstr(b.ptr, "\"ref\":\"W-1\""));
    assert_non_null(strstr(b.ptr, "\"dob\":\"agrees\",\"nationality\":\"agrees\""));
    tq_buf_cleanup(&b);
    tq_buf_init(&b, 1 << 20);
    must(tq_screening_explain_text(&a, 0, &b), NULL, "text");
    assert_non_null(strstr(b.ptr, "(kunya)"));
    assert_non_null(strstr(b.ptr, "birth year agrees, nationality agrees"));
    tq_buf_cleanup(&b);
    tq_screening_answer_cleanup(&a);

    /* A conflicting birth year lowers the score; an alias finds its entry. */
    must(tq_screening_query(f->s,
                            &(struct tq_screening_query){.name = TQ_STR("Abu Bakr al-Baghdadi"),
                                                         .dob = TQ_STR("1950")},
                            &a, &err),
         &err, "alias");
    assert_true(a.n_hits >= 1);
    assert_string_equal(a.hits[0].ref, "W-2");
    assert_int_equal(a.hits[0].quality, TQ_WATCH_GOOD);
    assert_int_equal(a.hits[0].result.year_effect, -1);
    tq_screening_answer_cleanup(&a);

    /* Nothing near. */
    must(tq_screening_query(f->s, &(struct tq_screening_query){.name = TQ_STR("Zoltan Kovacs")}, &a,
                            &err),
         &err, "miss");
    assert_int_equal(a.n_hits, 0);
    tq_screening_answer_cleanup(&a);

    /* Refusals. */
    assert_int_equal(
        tq_screening_query(f->s, &(struct tq_screening_query){.name = TQ_STR("x"), .list = "nope"},
                           &a, &err),
        TQ_ENOTFOUND);
    assert_int_equal(
        tq_screening_query(f->s, &(struct tq_screening_query){.name = TQ_STR(" ")}, &a, &err),
        TQ_EINVAL);
    assert_int_equal(tq_screening_query(f->s,
                                        &(struct tq_screening_query){.name = TQ_STR("Omar"),
                                                                     .dob = TQ_STR("yesterday")},
                                        &a, &err),
                     TQ_EINVAL);
    assert_int_equal(
        tq_screening_query(
            f->s,
            &(struct tq_screening_query){.name = TQ_STR("Omar"), .nationality = TQ_STR("Atlantis")},
            &a, &err),
        TQ_EINVAL);
    assert_int_equal(
        tq_screening_query(f->s, &(struct tq_screening_query){.name = TQ_STR("Omar"), .limit = 101},
                           &a, &err),
        TQ_EINVAL);
}

static void cache_follows_list(void **state)
{
    struct fixture *f = *state;
    struct tq_screening_answer a = {0};
    struct tq_err err = {0};
    size_t rebuilt = 99;

    put_csv(f->store, "wanted", CSV);
    must(tq_screening_refresh(f->s, &rebuilt, &err), &err, "refresh");
    assert_int_equal(rebuilt, 1);
    must(tq_screening_refresh(f->s, &rebuilt, &err), &err, "refresh again");
    assert_int_equal(rebuilt, 0); /* unchanged: the cached index is kept */
    must(tq_screening_query(f->s, &(struct tq_screening_query){.name = TQ_STR("Khalid Mansour")},
                            &a, &err),
         &err, "before");
    assert_int_equal(a.n_hits, 0);
    tq_screening_answer_cleanup(&a);
    usleep(2000); /* imported_us moves */
    put_csv(f->store, "wanted", "ref,name\nW-9,Khalid Mansour\n");
    must(tq_screening_query(f->s, &(struct tq_screening_query){.name = TQ_STR("Khaled Mansour")},
                            &a, &err),
         &err, "after");
    assert_int_equal(a.n_hits, 1);
    assert_string_equal(a.hits[0].ref, "W-9");
    tq_screening_answer_cleanup(&a);
    must(tq_store_watchlist_remove(f->store, "wanted", &err), &err, "remove");
    must(tq_screening_query(f->s, &(struct tq_screening_query){.name = TQ_STR("Khalid Mansour")},
                            &a, &err),
         &err, "gone");
    assert_int_equal(a.lists, 0);
    assert_int_equal(a.n_hits, 0);
    tq_screening_answer_cleanup(&a);
}

static void un_list(void **state)
{
    struct fixture *f = *state;
    struct tq_screening_answer a = {0};
    struct tq_watch_entry *v = NULL;
    struct tq_err err = {0};
    char path[1024];
    struct tq_buf b;
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/%s", testdata(), UN_FILE);
    if (access(path, R_OK) != 0) {
        skipped++;
        return;
    }
    tq_buf_init(&b, TQ_WATCHLIST_FILE_MAX);
    must(tq_file_read(path, TQ_WATCHLIST_FILE_MAX, &b, &err), &err, "read");
    must(tq_watchlist_parse_un((struct tq_str){b.ptr, b.len}, NULL, &v, &n, &err), &err, "un");
    tq_buf_cleanup(&b);
    must(tq_store_watchlist_put(
             f->store,
             &(struct tq_store_watchlist){.name = "un-sc", .source = path, .format = "un-xml"}, v,
             n, NULL, &err),
         &err, "put");
    tq_watch_entries_free(v, n);
    /* QDi.001's name in its original script finds QDi.001 first. */
    must(tq_screening_query(f->s,
                            &(struct tq_screening_query){
                                .name = TQ_STR("محمد صلاح الدين عبدالحليم زيدان"), .list = "un-sc"},
                            &a, &err),
         &err, "arabic");
    assert_true(a.n_hits >= 1);
    assert_string_equal(a.hits[0].ref, "QDi.001");
    assert_int_equal(a.hits[0].quality, TQ_WATCH_ORIGINAL);
    assert_string_equal(a.hits[0].nationality, "EG");
    tq_screening_answer_cleanup(&a);
    /* A Latin alias with its facts. */
    must(tq_screening_query(f->s,
                            &(struct tq_screening_query){.name = TQ_STR("Ayman al-Zawahiri"),
                                                         .dob = TQ_STR("1951-06-19"),
                                                         .nationality = TQ_STR("EG")},
                            &a, &err),
         &err, "latin");
    assert_true(a.n_hits >= 1);
    assert_string_equal(a.hits[0].ref, "QDi.006");
    assert_int_equal(a.hits[0].result.year_effect, 1);
    tq_screening_answer_cleanup(&a);
}

/* ---- stix lists: following the collection, and who may see an entry ---------------------- */

static void put_identity(struct tq_store *s, unsigned k, const char *name, const char *letters,
                         int64_t version_us)
{
    struct tq_stix_object o = {0};
    struct tq_store_facts facts = {.origin = "alpha", .received_us = 1};
    struct tq_err err = {0};
    char json[512];
    int64_t da;
    int len;

    snprintf(o.type, sizeof(o.type), "identity");
    snprintf(o.id, sizeof(o.id), "identity--%08x-0000-4000-8000-000000000000", k);
    snprintf(o.spec_version, sizeof(o.spec_version), "2.1");
    o.version_us = o.modified_us = o.created_us = version_us;
    len = snprintf(json, sizeof(json),
                   "{\"type\":\"identity\",\"id\":\"%s\",\"spec_version\":\"2.1\",\"name\":\"%s\","
                   "\"identity_class\":\"individual\"}",
                   o.id, name);
    o.json = json;
    o.json_len = (size_t)len;
    must(tq_store_put_ex(s, COLL_ID, &o, &facts, 1, fixture_decide_letters, (void *)letters, NULL,
                         &da, &err),
         &err, "put identity");
}

static void put_partner(struct tq_store *s, const char *name)
{
    struct tq_partner p = {0};
    struct tq_err err = {0};

    snprintf(p.name, sizeof(p.name), "%s", name);
    p.taxii_url = "https://192.0.2.1:8443";
    p.cert_pem = "-";
    must(tq_store_partner_put(s, &p, &err), &err, "partner");
}

static void import_stix(struct tq_store *s)
{
    struct tq_watch_entry *v = NULL;
    struct tq_err err = {0};
    size_t n = 0;

    must(tq_watchlist_from_stix(s, "shared", NULL, &v, &n, &err), &err, "from stix");
    must(tq_store_watchlist_put(s,
                                &(struct tq_store_watchlist){
                                    .name = "partner", .source = "stix:shared", .format = "stix"},
                                v, n, NULL, &err),
         &err, "put stix list");
    tq_watch_entries_free(v, n);
}

static size_t hits_as(struct fixture *f, const struct tq_store_reader *r, const char *name,
                      const char *list, tq_rc want)
{
    struct tq_screening_answer a = {0};
    struct tq_err err = {0};
    size_t n;
    tq_rc rc = tq_screening_query(
        f->s, &(struct tq_screening_query){.name = tq_str_c(name), .list = list, .reader = r}, &a,
        &err);

    assert_int_equal(rc, want);
    n = a.n_hits;
    if (n && strcmp(a.hits[0].list, "partner") == 0)
        assert_string_equal(a.hits[0].collection, COLL_ID);
    tq_screening_answer_cleanup(&a);
    return n;
}

static void stix_releasability(void **state)
{
    struct fixture *f = *state;
    struct tq_store_reader alpha = {"partner:alpha", "alpha"}, bravo = {"partner:bravo", "bravo"};
    struct tq_store_reader dave = {"dave", NULL}, carol = {"carol", NULL};
    struct tq_err err = {0};

    put_partner(f->store, "alpha");
    put_partner(f->store, "bravo");
    must(tq_store_user_put(f->store, "dave", "-", &err), &err, "user");
    must(tq_store_user_put(f->store, "carol", "-", &err), &err, "user");
    must(tq_store_perm_set(f->store, "partner:alpha", COLL_ID, true, false, &err), &err, "perm");
    must(tq_store_perm_set(f->store, "partner:bravo", COLL_ID, true, false, &err), &err, "perm");
    must(tq_store_perm_set(f->store, "dave", COLL_ID, true, false, &err), &err, "perm");
    /* Both arrived from a partner; the first is released on to alpha, the second to no one. */
    put_identity(f->store, 1, "Abu Mohammed al-Julani", "a", 1700000000000000);
    put_identity(f->store, 2, "Ibrahim Awad al-Badri", "", 1700000000000000);
    import_stix(f->store);

    /* The node and a user who may read the collection see both. */
    assert_int_equal(hits_as(f, NULL, "Abu Mohammad al-Julani", NULL, TQ_OK), 1);
    assert_int_equal(hits_as(f, &dave, "Ibrahim Awad al-Badri", "partner", TQ_OK), 1);
    /* A partner sees only what was released to it: no hit, no count, no error for the rest. */
    assert_int_equal(hits_as(f, &alpha, "Abu Mohammad al-Julani", "partner", TQ_OK), 1);
    assert_int_equal(hits_as(f, &alpha, "Ibrahim Awad al-Badri", "partner", TQ_OK), 0);
    assert_int_equal(hits_as(f, &bravo, "Abu Mohammad al-Julani", "partner", TQ_OK), 0);
    /* A user without read permission: the list is as absent as an unknown one. */
    assert_int_equal(hits_as(f, &carol, "Abu Mohammad al-Julani", NULL, TQ_OK), 0);
    assert_int_equal(hits_as(f, &carol, "Abu Mohammad al-Julani", "partner", TQ_ENOTFOUND), 0);
    /* A partner never screens against the node's own lists. */
    put_csv(f->store, "wanted", CSV);
    assert_int_equal(hits_as(f, &alpha, "Abu Mohammad al-Julani", "wanted", TQ_ENOTFOUND), 0);
    assert_int_equal(hits_as(f, &dave, "Abu Mohammad al-Julani", "wanted", TQ_OK), 1);

    /* A new identity arrives by sync after the list was built: screened without a re-import. */
    usleep(2000);
    put_identity(f->store, 3, "Omar Hassan Khalil", "a", 1700000000000000);
    assert_int_equal(hits_as(f, NULL, "Omar Hasan Khalil", "partner", TQ_OK), 1);
    assert_int_equal(hits_as(f, &alpha, "Omar Hasan Khalil", "partner", TQ_OK), 1);
    assert_int_equal(hits_as(f, &bravo, "Omar Hasan Khalil", "partner", TQ_OK), 0);
}

/* ---- batches ------------------------------------------------------------------------------ */

struct rows {
    size_t n, failed, hit;
    char first_hit_ref[64];
    char ids[8][16];
};

static tq_rc on_row(void *ud, const struct tq_screening_row *row)
{
    struct rows *r = ud;

    assert_int_equal(row->row, r->n + 1);
    assert_int_equal(row->rows_total, 5);
    if (r->n < 8)
        snprintf(r->ids[r->n], sizeof(r->ids[0]), "%s", row->id ? row->id : "");
    r->n++;
    if (row->rc) {
        r->failed++;
        assert_null(row->answer);
        assert_true(row->err->msg[0] != '\0');
    } else if (row->answer->n_hits) {
        if (!r->hit++)
            snprintf(r->first_hit_ref, sizeof(r->first_hit_ref), "%s", row->answer->hits[0].ref);
    }
    return TQ_OK;
}

static void batch(void **state)
{
    struct fixture *f = *state;
    struct tq_screening_batch_summary sum = {0};
    struct rows r = {0};
    struct tq_err err = {0};
    struct tq_buf csv;
    struct tq_screening_query q = {0};

    put_csv(f->store, "wanted", CSV);
    tq_buf_init(&csv, 1 << 20);
    tq_buf_append_c(&csv, "id,Name,dob,nationality\n"
                          "a1,Abu Muhammad al-Jawlani,1982,SY\n"
                          "a2,,,\n"
                          "a3,\"bad \xff utf8\",,\n"
                          "a4,");
    for (int i = 0; i < 1100; i++)
        tq_buf_append_c(&csv, "x");
    tq_buf_append_c(&csv, ",,\na5,Zoltan Kovacs,1970,HU\n");
    must(tq_screening_batch(f->s, (struct tq_str){csv.ptr, csv.len}, &q, on_row, &r, &sum, &err),
         &err, "batch");
    assert_int_equal(r.n, 5);
    assert_int_equal(sum.rows, 5);
    assert_int_equal(sum.failed, 3);
    assert_int_equal(sum.screened, 2);
    assert_int_equal(sum.with_hits, 1);
    assert_string_equal(r.first_hit_ref, "W-1");
    assert_string_equal(r.ids[4], "a5");

    /* No name column; malformed CSV; an unknown list: refused before any row. */
    memset(&r, 0, sizeof(r));
    assert_int_equal(tq_screening_batch(f->s, TQ_STR("id,who\n1,x\n"), &q, on_row, &r, &sum, &err),
                     TQ_EINVAL);
    assert_int_equal(tq_screening_batch(f->s, TQ_STR("name\n\"open\n"), &q, on_row, &r, &sum, &err),
                     TQ_EINVAL);
    q.list = "nope";
    assert_int_equal(tq_screening_batch(f->s, TQ_STR("name\nx\n"), &q, on_row, &r, &sum, &err),
                     TQ_ENOTFOUND);
    assert_int_equal(r.n, 0);
    tq_buf_cleanup(&csv);
}

static void batch_limits(void **state)
{
    struct fixture *f = *state;
    struct tq_screening_query q = {0};
    struct rows r = {0};
    struct tq_err err = {0};
    struct tq_buf csv;

    tq_buf_init(&csv, (size_t)8 << 20);
    tq_buf_append_c(&csv, "name\n");
    for (int i = 0; i <= TQ_SCREENING_BATCH_ROWS_MAX; i++)
        tq_buf_append_c(&csv, "a\n");
    assert_int_equal(
        tq_screening_batch(f->s, (struct tq_str){csv.ptr, csv.len}, &q, on_row, &r, NULL, &err),
        TQ_ETOOBIG);
    assert_int_equal(r.n, 0);
    assert_int_equal(tq_screening_batch(f->s,
                                        (struct tq_str){csv.ptr, TQ_SCREENING_BATCH_BYTES_MAX + 1},
                                        &q, on_row, &r, NULL, &err),
                     TQ_ETOOBIG);
    tq_buf_cleanup(&csv);
}

/* ---- the screening alert rule ------------------------------------------------------------- */

struct alerts_seen {
    size_t n;
    char detail[2048];
    char kind[32];
};

static tq_rc alert_cb(void *ud, const struct tq_store_alert *a)
{
    struct alerts_seen *s = ud;

    if (!s->n++) {
        snprintf(s->detail, sizeof(s->detail), "%s", a->detail);
        snprintf(s->kind, sizeof(s->kind), "%s", a->kind);
    }
    return TQ_OK;
}

static void alert_rule(void **state)
{
    struct fixture *f = *state;
    struct tq_monitor *m = NULL;
    struct tq_err err = {0};
    struct tq_stix_object o[2];
    const char *body[2] = {"\"name\":\"Abu Muhammad al-Jawlani\",\"identity_class\":\"individual\"",
                           "\"name\":\"Zoltan Kovacs\",\"identity_class\":\"individual\""};
    char json[2][512];
    int64_t da[2];
    struct alerts_seen seen = {0};
    struct tq_store_alert_query aq = {.limit = 100};
    bool more = false;
    int64_t id;

    put_csv(f->store, "wanted", CSV);
    memset(o, 0, sizeof(o));
    must(tq_store_alert_rule_add(f->store,
                                 &(struct tq_store_alert_rule){.name = "watch",
                                                               .kind = "screening",
                                                               .params = "{\"list\":\"wanted\","
                                                                         "\"min_score\":0.8}",
                                                               .enabled = true},
                                 &id, &err),
         &err, "rule");
    must(tq_monitor_open(f->store, NULL, &m, &err), &err, "monitor");
    for (int i = 0; i < 2; i++) {
        int len;

        snprintf(o[i].type, sizeof(o[i].type), "identity");
        snprintf(o[i].id, sizeof(o[i].id), "identity--%08x-0000-4000-8000-00000000000a", i + 10);
        snprintf(o[i].spec_version, sizeof(o[i].spec_version), "2.1");
        o[i].version_us = o[i].modified_us = o[i].created_us = 1700000000000000;
        len = snprintf(json[i], sizeof(json[i]),
                       "{\"type\":\"identity\",\"id\":\"%s\",\"spec_version\":\"2.1\",%s}", o[i].id,
                       body[i]);
        o[i].json = json[i];
        o[i].json_len = (size_t)len;
    }
    must(tq_store_put(f->store, COLL_ID, o, 2, NULL, da, &err), &err, "put");
    tq_monitor_on_commit(m, COLL_ID, "alpha", o, NULL, da, 2);
    must(tq_store_alerts(f->store, &aq, alert_cb, &seen, &more, &err), &err, "alerts");
    assert_int_equal(seen.n, 1); /* the first name screens, the second does not */
    assert_string_equal(seen.kind, "screening");
    assert_non_null(strstr(seen.detail, "\"list\":\"wanted\""));
    assert_non_null(strstr(seen.detail, "\"ref\":\"W-1\""));
    assert_non_null(strstr(seen.detail, "\"matched\":\"Abu Mohammed al-Julani\""));
    assert_non_null(strstr(seen.detail, "\"score\":"));
    /* The same object again raises nothing new (dedup). */
    tq_monitor_on_commit(m, COLL_ID, "alpha", o, NULL, da, 2);
    seen.n = 0;
    must(tq_store_alerts(f->store, &aq, alert_cb, &seen, &more, &err), &err, "alerts");
    assert_int_equal(seen.n, 1);
    tq_monitor_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(csv_list, setup, teardown),
        cmocka_unit_test_setup_teardown(cache_follows_list, setup, teardown),
        cmocka_unit_test_setup_teardown(un_list, setup, teardown),
        cmocka_unit_test_setup_teardown(stix_releasability, setup, teardown),
        cmocka_unit_test_setup_teardown(batch, setup, teardown),
        cmocka_unit_test_setup_teardown(batch_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(alert_rule, setup, teardown),
    };
    int failed;

    fprintf(stderr, "screening on %s\n", backend_name());
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (skipped)
        print_message("screening: %zu data-dependent case(s) skipped (TANSIQ_TESTDATA=%s)\n",
                      skipped, testdata());
    return failed;
}
