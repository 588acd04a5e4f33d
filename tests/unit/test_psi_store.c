/* SPDX-License-Identifier: Apache-2.0
 *
 * test_psi_store - the private set intersection part of the store (tansiq/psi_store.h) on the
 * backend of TQ_TEST_STORE (SQLite by default, PostgreSQL with TQ_TEST_STORE=postgres, see
 * backend.h): grants put, replaced, read, listed and deleted; runs admitted under the rate
 * limit (refusals not counted, the window honoured, per partner and list), updated and listed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tansiq/psi_store.h"
#include "tansiq/store.h"
#include "backend.h"
#include "fixture.h"

struct fixture {
    char dir[64];
    char path[256];
    struct tq_store *store;
};

static int setup(void **state)
{
    struct fixture *f = tq_xcalloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/tq-psistore-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    backend_target(f->dir, f->path, sizeof(f->path));
    f->store = fixture_store_open(f->path);
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

static struct tq_store_psi_grant grant(const char *partner, const char *list, unsigned modes)
{
    struct tq_store_psi_grant g = {.modes = modes, .runs_per_day = 2, .min_entries = 10};

    snprintf(g.partner, sizeof(g.partner), "%s", partner);
    snprintf(g.list, sizeof(g.list), "%s", list);
    return g;
}

static void grants_put_get_list_delete(void **state)
{
    struct fixture *f = *state;
    struct tq_store_psi_grant g = grant("alpha", "un-sc", TQ_PSI_GRANT_MATCHES), got, *v = NULL;
    struct tq_err err = {0};
    size_t n = 0;

    assert_int_equal(tq_store_psi_grant_get(f->store, "alpha", "un-sc", &got, &err), TQ_ENOTFOUND);
    assert_int_equal(tq_store_psi_grant_put(f->store, &g, &err), TQ_OK);
    g.modes = TQ_PSI_GRANT_MATCHES | TQ_PSI_GRANT_CARDINALITY;
    g.runs_per_day = 5;
    assert_int_equal(tq_store_psi_grant_put(f->store, &g, &err), TQ_OK); /* replaces */
    assert_int_equal(tq_store_psi_grant_get(f->store, "alpha", "un-sc", &got, &err), TQ_OK);
    assert_int_equal(got.modes, 3);
    assert_int_equal(got.runs_per_day, 5);
    assert_int_equal(got.min_entries, 10);
    assert_true(got.created_us > 0);
    /* Another partner's grant of the same list is its own. */
    assert_int_equal(tq_store_psi_grant_get(f->store, "bravo", "un-sc", &got, &err), TQ_ENOTFOUND);
    g = grant("bravo", "local", TQ_PSI_GRANT_CARDINALITY);
    assert_int_equal(tq_store_psi_grant_put(f->store, &g, &err), TQ_OK);
    assert_int_equal(tq_store_psi_grant_list(f->store, &v, &n, &err), TQ_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].partner, "alpha");
    assert_string_equal(v[1].list, "local");
    tq_free(v);
    assert_int_equal(tq_store_psi_grant_delete(f->store, "alpha", "un-sc", &err), TQ_OK);
    assert_int_equal(tq_store_psi_grant_delete(f->store, "alpha", "un-sc", &err), TQ_ENOTFOUND);
    /* Malformed names and modes are refused before the store is asked. */
    g = grant("Alpha", "x", TQ_PSI_GRANT_MATCHES);
    assert_int_equal(tq_store_psi_grant_put(f->store, &g, &err), TQ_EINVAL);
    g = grant("alpha", "a list", TQ_PSI_GRANT_MATCHES);
    assert_int_equal(tq_store_psi_grant_put(f->store, &g, &err), TQ_EINVAL);
    g = grant("alpha", "x", 0);
    assert_int_equal(tq_store_psi_grant_put(f->store, &g, &err), TQ_EINVAL);
    g = grant("alpha", "x", 4);
    assert_int_equal(tq_store_psi_grant_put(f->store, &g, &err), TQ_EINVAL);
}

static struct tq_store_psi_run run(const char *partner, const char *list, int64_t at_us,
                                   const char *outcome)
{
    struct tq_store_psi_run r = {.at_us = at_us, .keys_per_entry = 8, .count = -1};

    snprintf(r.partner, sizeof(r.partner), "%s", partner);
    snprintf(r.list, sizeof(r.list), "%s", list);
    snprintf(r.role, sizeof(r.role), "responder");
    snprintf(r.mode, sizeof(r.mode), "matches");
    snprintf(r.outcome, sizeof(r.outcome), "%s", outcome);
    return r;
}

static void runs_rate_limit(void **state)
{
    struct fixture *f = *state;
    struct tq_store_psi_run r, *v = NULL;
    struct tq_err err = {0};
    size_t n = 0;

    /* An old run is outside the window; a refusal never counts. */
    r = run("alpha", "L", 1000, "finished");
    assert_int_equal(tq_store_psi_run_admit(f->store, &r, 0, 0, &err), TQ_OK);
    r = run("alpha", "L", 5000, "refused: list-too-small");
    assert_int_equal(tq_store_psi_run_admit(f->store, &r, 0, 0, &err), TQ_OK);
    for (int i = 0; i < 2; i++) {
        r = run("alpha", "L", 3000 + i, "started");
        assert_int_equal(tq_store_psi_run_admit(f->store, &r, 2000, 2, &err), TQ_OK);
        assert_true(r.id > 0);
    }
    r = run("alpha", "L", 4000, "started");
    assert_int_equal(tq_store_psi_run_admit(f->store, &r, 2000, 2, &err), TQ_EBUSY);
    /* Another list, another partner, the other role: their own counts. */
    r = run("alpha", "M", 4000, "started");
    assert_int_equal(tq_store_psi_run_admit(f->store, &r, 2000, 2, &err), TQ_OK);
    r = run("bravo", "L", 4000, "started");
    assert_int_equal(tq_store_psi_run_admit(f->store, &r, 2000, 2, &err), TQ_OK);
    r = run("alpha", "L", 4000, "started");
    snprintf(r.role, sizeof(r.role), "requester");
    assert_int_equal(tq_store_psi_run_admit(f->store, &r, 2000, 2, &err), TQ_OK);
    /* Update and read back, newest first. */
    snprintf(r.outcome, sizeof(r.outcome), "finished");
    snprintf(r.session, sizeof(r.session), "00112233445566778899aabbccddeeff");
    r.count = 3;
    r.peer_entries = 12;
    assert_int_equal(tq_store_psi_run_update(f->store, &r, &err), TQ_OK);
    assert_int_equal(tq_store_psi_run_list(f->store, "alpha", 10, &v, &n, &err), TQ_OK);
    assert_int_equal(n, 6);
    assert_int_equal(v[0].id, r.id);
    assert_string_equal(v[0].session, r.session);
    assert_int_equal(v[0].count, 3);
    assert_int_equal(v[0].peer_entries, 12);
    assert_string_equal(v[0].role, "requester");
    tq_free(v);
    assert_int_equal(tq_store_psi_run_list(f->store, NULL, 1000, &v, &n, &err), TQ_OK);
    assert_int_equal(n, 7);
    tq_free(v);
    r.id = 9999;
    assert_int_equal(tq_store_psi_run_update(f->store, &r, &err), TQ_ENOTFOUND);
    r = run("alpha", "L", 1, "x");
    snprintf(r.role, sizeof(r.role), "other");
    assert_int_equal(tq_store_psi_run_admit(f->store, &r, 0, 0, &err), TQ_EINVAL);
    assert_int_equal(tq_store_psi_run_list(f->store, NULL, 0, &v, &n, &err), TQ_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(grants_put_get_list_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(runs_rate_limit, setup, teardown),
    };

    fprintf(stderr, "psi store on %s\n", backend_name());
    return cmocka_run_group_tests(tests, NULL, NULL);
}
