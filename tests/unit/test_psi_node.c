/* SPDX-License-Identifier: Apache-2.0
 *
 * test_psi_node - the responder of a serving node (tansiq/psi_node.h) driven directly with
 * messages that a real requester session makes, on the backend of TQ_TEST_STORE (SQLite by
 * default, PostgreSQL with TQ_TEST_STORE=postgres, see backend.h).
 *
 * Every refusal is checked for its code, its text and its record: no grant, a list that does
 * not exist, a mode not granted and a STIX list all give one text; unpadded requests, lists
 * under the grant's min_entries and runs over runs_per_day are refused, and refusals do not
 * count against the limit; a FINAL is accepted only for a pending session of the same partner.
 * A whole run concludes with the same count on both sides, an expired session is recorded as
 * final-withheld, and each run or refusal is exactly one psi_runs row and one audit leaf.
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

#include "sync/sync.h"
#include "tansiq/audit.h"
#include "tansiq/psi_node.h"
#include "tansiq/store.h"
#include "tansiq/watchlist.h"
#include "backend.h"
#include "fixture.h"

#define NOT_OPENED "psi: this list is not opened to you in this mode"
#define SHARED 4 /* entries of "mine" that "watch" holds too */

/* The responder's list: twelve people; four of them are on the requester's list too. */
static const char *WATCH_CSV = "ref,name,aliases,dob,nationality,kind\n"
                               "R-01,Omar Farouk Jibril,,,,individual\n"
                               "R-02,Khalid Mansour Qasim,,,,individual\n"
                               "R-03,Yusuf Tariq Zubair,,,,individual\n"
                               "R-04,Bilal Nadim Sharif,,,,individual\n"
                               "R-05,Walid Rashid Dabbagh,,,,individual\n"
                               "R-06,Samir Ghazi Lutfi,,,,individual\n"
                               "R-07,Idris Kamal Wahba,,,,individual\n"
                               "R-08,Anwar Jalal Taha,,,,individual\n"
                               "R-09,Ziyad Murad Haddad,,,,individual\n"
                               "R-10,Faisal Bakr Nuri,,,,individual\n"
                               "R-11,Marwan Salim Kurdi,,,,individual\n"
                               "R-12,Tawfiq Adel Shami,,,,individual\n";

static const char *MINE_CSV = "ref,name,aliases,dob,nationality,kind\n"
                              "M-01,Omar Farouk Jibril,,,,individual\n"
                              "M-02,Khalid Mansour Qasim,,,,individual\n"
                              "M-03,Yusuf Tariq Zubair,,,,individual\n"
                              "M-04,Bilal Nadim Sharif,,,,individual\n"
                              "M-05,Gregor Pulaski Venn,,,,individual\n"
                              "M-06,Piotr Lindqvist Orm,,,,individual\n"
                              "M-07,Hendrik Vasquez Tull,,,,individual\n"
                              "M-08,Olaf Brekke Skov,,,,individual\n"
                              "M-09,Emil Strand Voss,,,,individual\n"
                              "M-10,Casper Holm Ridder,,,,individual\n";

struct fixture {
    char dir[64];
    char path[256];
    struct tq_store *store;
    struct tq_audit_log *audit;
    struct tq_psi_responder *r;
    struct tq__psi_list mine; /* the requester's list, K = 8 */
};

static void must(tq_rc rc, const struct tq_err *err, const char *what)
{
    if (rc)
        fail_msg("%s: %s: %s", what, tq_rc_name(rc), err->msg);
}

static void put_csv(struct tq_store *store, const char *list, const char *format, const char *csv)
{
    struct tq_watch_entry *v = NULL;
    struct tq_err err = {0};
    size_t n = 0;

    must(tq_watchlist_parse_csv(tq_str_c(csv), NULL, &v, &n, &err), &err, "csv");
    must(tq_store_watchlist_put(store,
                                &(struct tq_store_watchlist){.name = (char *)list,
                                                             .source = "t.csv",
                                                             .format = (char *)format},
                                v, n, NULL, &err),
         &err, "put list");
    tq_watch_entries_free(v, n);
}

static void grant(struct tq_store *store, const char *partner, const char *list, unsigned modes,
                  unsigned runs_per_day, unsigned min_entries)
{
    struct tq_store_psi_grant g = {
        .modes = modes, .runs_per_day = runs_per_day, .min_entries = min_entries};
    struct tq_err err = {0};

    snprintf(g.partner, sizeof(g.partner), "%s", partner);
    snprintf(g.list, sizeof(g.list), "%s", list);
    must(tq_store_psi_grant_put(store, &g, &err), &err, "grant");
}

static struct tq_psi_responder *responder(struct fixture *f, unsigned stall_s,
                                          unsigned refusals_per_day)
{
    struct tq_psi_responder_options o = {.stall_s = stall_s, .refusals_per_day = refusals_per_day};
    struct tq_psi_responder *r = NULL;
    struct tq_err err = {0};

    must(tq_psi_responder_new(f->store, f->audit, &o, &r, &err), &err, "responder");
    return r;
}

static int setup(void **state)
{
    struct fixture *f = tq_xcalloc(1, sizeof(*f));
    struct tq_err err = {0};

    snprintf(f->dir, sizeof(f->dir), "/tmp/tq-psinode-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    backend_target(f->dir, f->path, sizeof(f->path));
    f->store = fixture_store_open(f->path);
    must(tq_audit_log_open(f->store, NULL, &f->audit, &err), &err, "audit");
    put_csv(f->store, "watch", "csv", WATCH_CSV);
    put_csv(f->store, "mine", "csv", MINE_CSV);
    put_csv(f->store, "shared", "stix", WATCH_CSV);
    must(tq__psi_list_load(f->store, "mine", 8, &f->mine, &err), &err, "load mine");
    assert_int_equal(f->mine.n, 10);
    f->r = responder(f, 0, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tq_psi_responder_free(f->r);
    tq__psi_list_cleanup(&f->mine);
    tq_audit_log_close(f->audit);
    tq_store_close(f->store);
    backend_target_drop(f->dir);
    tmpdir_remove(f->dir);
    tq_free(f);
    return 0;
}

/* A requester's session and its REQUEST of the first n entries of "mine". */
struct req {
    struct tq_psi_session *s;
    struct tq_buf msg;
};

static void req_make(struct fixture *f, struct req *q, size_t n, enum tq_psi_mode mode, unsigned k)
{
    struct tq_err err = {0};

    q->s = tq_psi_session_new(TQ_PSI_REQUESTER, NULL);
    tq_buf_init(&q->msg, TQ_PSI_NET_BODY_MAX);
    must(tq_psi_request(q->s, mode, k, f->mine.entries, n, &q->msg, &err), &err, "request");
}

static void req_cleanup(struct req *q)
{
    tq_psi_session_free(q->s);
    tq_buf_cleanup(&q->msg);
}

static tq_rc ask(struct tq_psi_responder *r, const char *partner, const char *list, struct req *q,
                 struct tq_buf *resp, struct tq_err *err)
{
    return tq_psi_responder_request(r, partner, list, (struct tq_str){q->msg.ptr, q->msg.len}, resp,
                                    err);
}

/* The newest run row of partner. */
static struct tq_store_psi_run last_run(struct fixture *f, const char *partner)
{
    struct tq_store_psi_run *v = NULL, out;
    struct tq_err err = {0};
    size_t n = 0;

    must(tq_store_psi_run_list(f->store, partner, 1, &v, &n, &err), &err, "runs");
    assert_int_equal(n, 1);
    out = v[0];
    tq_free(v);
    return out;
}

static size_t runs_of(struct fixture *f, const char *partner)
{
    struct tq_store_psi_run *v = NULL;
    struct tq_err err = {0};
    size_t n = 0;

    must(tq_store_psi_run_list(f->store, partner, TQ_PSI_RUNS_PAGE_MAX, &v, &n, &err), &err,
         "runs");
    tq_free(v);
    return n;
}

/* Leaves of kind psi in the audit log, of partner. */
static size_t psi_leaves(struct fixture *f, const char *partner, const char *needle)
{
    struct tq_err err = {0};
    uint64_t size = 0;
    size_t n = 0;

    must(tq_audit_flush(f->audit, &err), &err, "flush");
    must(tq_store_audit_size(f->store, &size, &err), &err, "size");
    for (uint64_t i = 0; i < size; i++) {
        struct tq_store_audit_entry e = {0};

        must(tq_store_audit_entry(f->store, i, &e, &err), &err, "entry");
        if (strcmp(e.kind, "psi") == 0 && e.partner && strcmp(e.partner, partner) == 0 &&
            (!needle || strstr(e.record, needle)))
            n++;
        tq_store_audit_entry_cleanup(&e);
    }
    return n;
}

/* A refusal of partner's request for list: its code, its text and its row. */
static void expect_refusal(struct fixture *f, const char *partner, const char *list, struct req *q,
                           tq_rc want, const char *text, const char *outcome)
{
    struct tq_err err = {0};
    struct tq_buf resp;
    size_t rows = runs_of(f, partner);
    struct tq_store_psi_run run;

    tq_buf_init(&resp, TQ_PSI_NET_BODY_MAX);
    assert_int_equal(ask(f->r, partner, list, q, &resp, &err), want);
    assert_int_equal(resp.len, 0);
    if (text)
        assert_string_equal(err.msg, text);
    assert_int_equal(runs_of(f, partner), rows + 1);
    run = last_run(f, partner);
    assert_string_equal(run.outcome, outcome);
    assert_string_equal(run.list, list);
    assert_string_equal(run.role, "responder");
    tq_buf_cleanup(&resp);
}

static void refusals_share_one_text(void **state)
{
    struct fixture *f = *state;
    struct req m, c;

    grant(f->store, "alpha", "watch", TQ_PSI_GRANT_MATCHES, 0, 0);
    grant(f->store, "alpha", "ghost", TQ_PSI_GRANT_MATCHES | TQ_PSI_GRANT_CARDINALITY, 0, 0);
    grant(f->store, "alpha", "shared", TQ_PSI_GRANT_MATCHES, 0, 0);
    req_make(f, &m, 10, TQ_PSI_MODE_MATCHES, 8);
    req_make(f, &c, 10, TQ_PSI_MODE_CARDINALITY, 8);
    /* No grant, to this partner, of a list that exists. */
    expect_refusal(f, "bravo", "watch", &m, TQ_EFORBIDDEN, NOT_OPENED, "refused: not-opened");
    /* No such list, with and without a grant. */
    expect_refusal(f, "alpha", "nowhere", &m, TQ_EFORBIDDEN, NOT_OPENED, "refused: not-opened");
    expect_refusal(f, "alpha", "ghost", &m, TQ_EFORBIDDEN, NOT_OPENED, "refused: not-opened");
    /* A mode not granted. */
    expect_refusal(f, "alpha", "watch", &c, TQ_EFORBIDDEN, NOT_OPENED, "refused: not-opened");
    /* A STIX list, though granted. */
    expect_refusal(f, "alpha", "shared", &m, TQ_EFORBIDDEN, NOT_OPENED, "refused: not-opened");
    /* A not-opened refusal's leaf names no digest of anything here. */
    assert_int_equal(psi_leaves(f, "alpha", "refused: not-opened"), 4);
    assert_int_equal(psi_leaves(f, "alpha", "list_sha256"), 0);
    assert_int_equal(psi_leaves(f, "bravo", NULL), 1);
    req_cleanup(&m);
    req_cleanup(&c);
}

static void unpadded_small_and_rate_limited(void **state)
{
    struct fixture *f = *state;
    struct tq_err err = {0};
    struct req k0, small, q1, q2, q3;
    struct tq_buf resp;

    grant(f->store, "alpha", "watch", TQ_PSI_GRANT_MATCHES, 2, 10);
    req_make(f, &k0, 10, TQ_PSI_MODE_MATCHES, 0);
    req_make(f, &small, 9, TQ_PSI_MODE_MATCHES, 8);
    expect_refusal(f, "alpha", "watch", &k0, TQ_EUNPROCESSABLE, NULL, "refused: unpadded");
    expect_refusal(f, "alpha", "watch", &small, TQ_EUNPROCESSABLE, NULL, "refused: list-too-small");
    /* The refusals above did not count: two runs are still allowed, the third is not. */
    tq_buf_init(&resp, TQ_PSI_NET_BODY_MAX);
    req_make(f, &q1, 10, TQ_PSI_MODE_MATCHES, 8);
    req_make(f, &q2, 10, TQ_PSI_MODE_MATCHES, 8);
    req_make(f, &q3, 10, TQ_PSI_MODE_MATCHES, 8);
    must(ask(f->r, "alpha", "watch", &q1, &resp, &err), &err, "run 1");
    assert_true(resp.len > 0);
    assert_string_equal(last_run(f, "alpha").outcome, "started");
    tq_buf_reset(&resp);
    must(ask(f->r, "alpha", "watch", &q2, &resp, &err), &err, "run 2");
    assert_int_equal(tq_psi_responder_pending(f->r), 2);
    expect_refusal(f, "alpha", "watch", &q3, TQ_EBUSY, NULL, "refused: rate-limited");
    /* ... and that refusal did not take a run either: the count is still two. */
    expect_refusal(f, "alpha", "watch", &q3, TQ_EBUSY, NULL, "refused: rate-limited");
    assert_int_equal(tq_psi_responder_pending(f->r), 2);
    assert_int_equal(runs_of(f, "alpha"), 6);
    tq_buf_cleanup(&resp);
    req_cleanup(&k0);
    req_cleanup(&small);
    req_cleanup(&q1);
    req_cleanup(&q2);
    req_cleanup(&q3);
}

/* Request, response, finish: the FINAL into fin, the requester's result into res. */
static void run_to_final(struct fixture *f, struct tq_psi_responder *r, const char *partner,
                         struct req *q, enum tq_psi_mode mode, struct tq_psi_result *res,
                         struct tq_buf *fin)
{
    struct tq_err err = {0};
    struct tq_buf resp;

    tq_buf_init(&resp, TQ_PSI_NET_BODY_MAX);
    tq_buf_init(fin, TQ_PSI_NET_BODY_MAX);
    req_make(f, q, 10, mode, 8);
    must(ask(r, partner, "watch", q, &resp, &err), &err, "ask");
    must(tq_psi_finish(q->s, (struct tq_str){resp.ptr, resp.len}, res, fin, &err), &err, "finish");
    tq_buf_cleanup(&resp);
}

static void full_run_and_finals(void **state)
{
    struct fixture *f = *state;
    struct tq_psi_result res = {0}, res2 = {0};
    struct tq_err err = {0};
    struct tq_buf fin, fin2;
    struct tq_store_psi_run run;
    struct req q, q2;

    grant(f->store, "alpha", "watch", TQ_PSI_GRANT_MATCHES | TQ_PSI_GRANT_CARDINALITY, 0, 10);
    run_to_final(f, f->r, "alpha", &q, TQ_PSI_MODE_MATCHES, &res, &fin);
    assert_int_equal(res.count, SHARED);
    assert_int_equal(res.peer_entries, 12);
    for (size_t i = 0; i < SHARED; i++)
        assert_int_equal(res.matched[i], i); /* M-01..M-04 */
    /* Another partner cannot conclude alpha's session, though it names the same session id. */
    assert_int_equal(tq_psi_responder_final(f->r, "bravo", (struct tq_str){fin.ptr, fin.len}, &err),
                     TQ_ENOTFOUND);
    assert_int_equal(tq_psi_responder_pending(f->r), 1);
    must(tq_psi_responder_final(f->r, "alpha", (struct tq_str){fin.ptr, fin.len}, &err), &err,
         "final");
    run = last_run(f, "alpha");
    assert_string_equal(run.outcome, "finished");
    assert_int_equal(run.count, SHARED);
    assert_int_equal(run.own_entries, 12);
    assert_int_equal(run.peer_entries, 10);
    assert_string_equal(run.mode, "matches");
    /* The same FINAL again: the session is gone. */
    assert_int_equal(tq_psi_responder_final(f->r, "alpha", (struct tq_str){fin.ptr, fin.len}, &err),
                     TQ_ENOTFOUND);
    assert_int_equal(runs_of(f, "alpha"), 1);
    assert_int_equal(psi_leaves(f, "alpha", "\"finished\""), 1);
    assert_int_equal(psi_leaves(f, "alpha", "list_sha256"), 1);
    assert_int_equal(psi_leaves(f, "alpha", "\"count\""), 0); /* the count stays here */

    /* Cardinality: the count only, the same on both sides. */
    run_to_final(f, f->r, "alpha", &q2, TQ_PSI_MODE_CARDINALITY, &res2, &fin2);
    assert_int_equal(res2.count, SHARED);
    assert_null(res2.matched);
    must(tq_psi_responder_final(f->r, "alpha", (struct tq_str){fin2.ptr, fin2.len}, &err), &err,
         "final 2");
    run = last_run(f, "alpha");
    assert_string_equal(run.outcome, "finished");
    assert_string_equal(run.mode, "cardinality");
    assert_int_equal(run.count, SHARED);

    tq_psi_result_cleanup(&res);
    tq_psi_result_cleanup(&res2);
    tq_buf_cleanup(&fin);
    tq_buf_cleanup(&fin2);
    req_cleanup(&q);
    req_cleanup(&q2);
}

static void expired_session_is_withheld(void **state)
{
    struct fixture *f = *state;
    struct tq_psi_responder *r = responder(f, 1, 0);
    struct tq_psi_result res = {0};
    struct tq_err err = {0};
    struct tq_buf fin;
    struct req q;

    grant(f->store, "charlie", "watch", TQ_PSI_GRANT_MATCHES, 0, 0);
    run_to_final(f, r, "charlie", &q, TQ_PSI_MODE_MATCHES, &res, &fin);
    assert_int_equal(tq_psi_responder_pending(r), 1);
    /* The sweeper looks once a second; wait for it, with a generous bound. */
    for (int i = 0; i < 100 && tq_psi_responder_pending(r) > 0; i++)
        usleep(100 * 1000);
    assert_int_equal(tq_psi_responder_pending(r), 0);
    assert_string_equal(last_run(f, "charlie").outcome, "final-withheld");
    assert_int_equal(last_run(f, "charlie").count, -1);
    assert_int_equal(tq_psi_responder_final(r, "charlie", (struct tq_str){fin.ptr, fin.len}, &err),
                     TQ_ENOTFOUND);
    assert_int_equal(runs_of(f, "charlie"), 1);
    assert_int_equal(psi_leaves(f, "charlie", "final-withheld"), 1);
    tq_psi_responder_free(r);
    tq_psi_result_cleanup(&res);
    tq_buf_cleanup(&fin);
    req_cleanup(&q);
}

static void pending_at_free_is_withheld(void **state)
{
    struct fixture *f = *state;
    struct tq_psi_responder *r = responder(f, 3600, 0);
    struct tq_psi_result res = {0};
    struct tq_buf fin;
    struct req q;

    grant(f->store, "charlie", "watch", TQ_PSI_GRANT_MATCHES, 0, 0);
    run_to_final(f, r, "charlie", &q, TQ_PSI_MODE_MATCHES, &res, &fin);
    assert_string_equal(last_run(f, "charlie").outcome, "started");
    tq_psi_responder_free(r);
    assert_string_equal(last_run(f, "charlie").outcome, "final-withheld");
    tq_psi_result_cleanup(&res);
    tq_buf_cleanup(&fin);
    req_cleanup(&q);
}

/*
 * A partner sending refused requests without end: the first refusals_per_day are recorded one
 * by one, the rest get the same answer and are counted, then summed up in one row and leaf.
 */
static void refusal_flood_is_capped(void **state)
{
    struct fixture *f = *state;
    struct tq_psi_responder *r = responder(f, 0, 3);
    struct tq_psi_result res = {0};
    struct tq_err err = {0};
    struct tq_buf resp, fin;
    struct req m, q;

    tq_psi_responder_free(f->r);
    f->r = r;
    grant(f->store, "alpha", "watch", TQ_PSI_GRANT_MATCHES, 1, 0);
    req_make(f, &m, 10, TQ_PSI_MODE_MATCHES, 8);
    tq_buf_init(&resp, TQ_PSI_NET_BODY_MAX);
    for (int i = 0; i < 3; i++)
        expect_refusal(f, "alpha", "nowhere", &m, TQ_EFORBIDDEN, NOT_OPENED, "refused: not-opened");
    for (int i = 0; i < 7; i++) {
        err.msg[0] = '\0';
        assert_int_equal(ask(r, "alpha", "nowhere", &m, &resp, &err), TQ_EFORBIDDEN);
        assert_string_equal(err.msg, NOT_OPENED); /* the same answer, not recorded */
    }
    assert_int_equal(runs_of(f, "alpha"), 3);
    /* Another partner's refusals are its own. */
    expect_refusal(f, "bravo", "watch", &m, TQ_EFORBIDDEN, NOT_OPENED, "refused: not-opened");
    /* A granted run is still answered and recorded, and the rate limit still holds. */
    run_to_final(f, r, "alpha", &q, TQ_PSI_MODE_MATCHES, &res, &fin);
    must(tq_psi_responder_final(r, "alpha", (struct tq_str){fin.ptr, fin.len}, &err), &err,
         "final");
    assert_string_equal(last_run(f, "alpha").outcome, "finished");
    assert_int_equal(ask(r, "alpha", "watch", &m, &resp, &err), TQ_EBUSY);
    assert_int_equal(runs_of(f, "alpha"), 4);
    /* The window's end (here: the responder stops) writes one summary of the 8 unrecorded. */
    tq_psi_responder_free(r);
    f->r = NULL;
    assert_int_equal(runs_of(f, "alpha"), 5);
    assert_string_equal(last_run(f, "alpha").outcome, "refused: flood, 8 unrecorded");
    assert_string_equal(last_run(f, "alpha").list, "");
    assert_int_equal(psi_leaves(f, "alpha", NULL), 5);
    assert_int_equal(psi_leaves(f, "alpha", "refused: flood, 8 unrecorded"), 1);
    assert_int_equal(psi_leaves(f, "bravo", "flood"), 0);
    tq_psi_result_cleanup(&res);
    tq_buf_cleanup(&resp);
    tq_buf_cleanup(&fin);
    req_cleanup(&m);
    req_cleanup(&q);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(refusals_share_one_text, setup, teardown),
        cmocka_unit_test_setup_teardown(unpadded_small_and_rate_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(full_run_and_finals, setup, teardown),
        cmocka_unit_test_setup_teardown(expired_session_is_withheld, setup, teardown),
        cmocka_unit_test_setup_teardown(pending_at_free_is_withheld, setup, teardown),
        cmocka_unit_test_setup_teardown(refusal_flood_is_capped, setup, teardown),
    };

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    printf("store backend: %s\n", backend_name());
    return cmocka_run_group_tests(tests, NULL, NULL);
}
