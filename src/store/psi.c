/* SPDX-License-Identifier: Apache-2.0
 *
 * store/psi.c - private set intersection in the store (tansiq/psi_store.h): which watchlist is
 * opened to which partner, and one row per run on each side.
 *
 * The rate limit is a count of rows, taken and extended in one write transaction (the write
 * lock serialises the processes of one node), so that two requests racing in two serve
 * processes cannot both pass the last free slot.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/engine.h"
#include "tansiq/psi_store.h"

/* A watchlist's name as the store accepts it (store.c's rule, repeated for the grant's key). */
static bool list_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > TQ_WATCH_LIST_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return false;
    }
    return true;
}

/* A partner's name: [a-z0-9][a-z0-9._-]{0,62}, the rule of tansiq/policy.h (ranked above). */
static bool partner_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n >= TQ_NAME_MAX ||
        !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return false;
    for (size_t i = 1; i < n; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '-'))
            return false;
    }
    return true;
}

static tq_rc check_names(const char *partner, const char *list, struct tq_err *err)
{
    if (!partner_ok(partner))
        return tq_err_set(err, TQ_EINVAL, "store: malformed partner name");
    if (!list_name_ok(list))
        return tq_err_set(err, TQ_EINVAL,
                          "store: a watchlist's name is 1 to %d letters, digits, '-', '_' or '.'",
                          TQ_WATCH_LIST_NAME_MAX);
    return TQ_OK;
}

/* Copy a column into a fixed field, truncated to fit. */
static void column_into(struct tq__stmt *st, int col, char *out, size_t size)
{
    const char *t = tq__db_col_text(st, col);

    snprintf(out, size, "%s", t ? t : "");
}

/* ---- grants --------------------------------------------------------------------------- */

static void grant_from_row(struct tq__stmt *st, void *out)
{
    struct tq_store_psi_grant *g = out;

    column_into(st, 0, g->partner, sizeof(g->partner));
    column_into(st, 1, g->list, sizeof(g->list));
    g->modes = (unsigned)tq__db_col_int64(st, 2);
    g->runs_per_day = (unsigned)tq__db_col_int64(st, 3);
    g->min_entries = (unsigned)tq__db_col_int64(st, 4);
    g->created_us = tq__db_col_int64(st, 5);
}

tq_rc tq_store_psi_grant_put(struct tq_store *store, const struct tq_store_psi_grant *g,
                             struct tq_err *err)
{
    tq_rc rc;

    if (!store || !g)
        return tq_err_set(err, TQ_EINVAL, "store: missing store or grant");
    rc = check_names(g->partner, g->list, err);
    if (rc)
        return rc;
    if (!(g->modes & (TQ_PSI_GRANT_MATCHES | TQ_PSI_GRANT_CARDINALITY)) ||
        (g->modes & ~(TQ_PSI_GRANT_MATCHES | TQ_PSI_GRANT_CARDINALITY)))
        return tq_err_set(err, TQ_EINVAL,
                          "store: a grant's modes are matches, cardinality or both");
    return tq__store_write(tq__engine_of(store), ST_PSI_GRANT_PUT,
                           TQ__ARGS(TQ__ARG_TEXT(g->partner), TQ__ARG_TEXT(g->list),
                                    TQ__ARG_INT(g->modes), TQ__ARG_INT(g->runs_per_day),
                                    TQ__ARG_INT(g->min_entries), TQ__ARG_INT(tq_time_now_us())),
                           "put psi grant", NULL, err);
}

tq_rc tq_store_psi_grant_get(struct tq_store *store, const char *partner, const char *list,
                             struct tq_store_psi_grant *out, struct tq_err *err)
{
    struct tq__engine *s;
    struct tq__conn *c = NULL;
    struct tq_store_psi_grant g = {0};
    bool found = false;
    tq_rc rc;

    if (!store || !out)
        return tq_err_set(err, TQ_EINVAL, "store: missing store or output");
    rc = check_names(partner, list, err);
    if (rc)
        return rc;
    s = tq__engine_of(store);
    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc =
        tq__store_read_row(c, ST_PSI_GRANT_GET, TQ__ARGS(TQ__ARG_TEXT(partner), TQ__ARG_TEXT(list)),
                           grant_from_row, &g, &found, "read psi grant", err);
    tq__store_conn_put(s, c);
    if (rc == TQ_OK && !found)
        return tq_err_set(err, TQ_ENOTFOUND, "store: no psi grant of '%s' to %s", list, partner);
    if (rc == TQ_OK)
        *out = g;
    return rc;
}

tq_rc tq_store_psi_grant_delete(struct tq_store *store, const char *partner, const char *list,
                                struct tq_err *err)
{
    struct tq__store_result res = {0};
    tq_rc rc;

    if (!store)
        return tq_err_set(err, TQ_EINVAL, "store: no store");
    rc = check_names(partner, list, err);
    if (rc)
        return rc;
    rc = tq__store_write(tq__engine_of(store), ST_PSI_GRANT_DELETE,
                         TQ__ARGS(TQ__ARG_TEXT(partner), TQ__ARG_TEXT(list)), "delete psi grant",
                         &res, err);
    if (rc == TQ_OK && res.changes == 0)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no psi grant of '%s' to %s", list, partner);
    return rc;
}

static void free_plain(void *v, size_t n)
{
    (void)n;
    tq_free(v);
}

tq_rc tq_store_psi_grant_list(struct tq_store *store, struct tq_store_psi_grant **out, size_t *n,
                              struct tq_err *err)
{
    if (!store || !out || !n)
        return tq_err_set(err, TQ_EINVAL, "store: missing store or output");
    return tq__store_list_rows(tq__engine_of(store), ST_PSI_GRANT_LIST, sizeof(**out),
                               grant_from_row, free_plain, "list psi grants", (void **)out, n, err);
}

/* ---- runs ----------------------------------------------------------------------------- */

static void run_from_row(struct tq__stmt *st, void *out)
{
    struct tq_store_psi_run *r = out;

    r->id = tq__db_col_int64(st, 0);
    r->at_us = tq__db_col_int64(st, 1);
    column_into(st, 2, r->partner, sizeof(r->partner));
    column_into(st, 3, r->list, sizeof(r->list));
    column_into(st, 4, r->role, sizeof(r->role));
    column_into(st, 5, r->session, sizeof(r->session));
    column_into(st, 6, r->mode, sizeof(r->mode));
    r->keys_per_entry = (unsigned)tq__db_col_int64(st, 7);
    r->own_entries = (uint64_t)tq__db_col_int64(st, 8);
    r->peer_entries = (uint64_t)tq__db_col_int64(st, 9);
    r->count = tq__db_col_int64(st, 10);
    column_into(st, 11, r->outcome, sizeof(r->outcome));
}

static tq_rc run_check(const struct tq_store_psi_run *r, struct tq_err *err)
{
    if (!partner_ok(r->partner))
        return tq_err_set(err, TQ_EINVAL, "store: malformed partner name");
    if (r->list[0] && !list_name_ok(r->list))
        return tq_err_set(err, TQ_EINVAL, "store: malformed watchlist name");
    if (strcmp(r->role, "requester") != 0 && strcmp(r->role, "responder") != 0)
        return tq_err_set(err, TQ_EINVAL, "store: a run's role is requester or responder");
    if (!r->outcome[0] || r->own_entries > INT64_MAX || r->peer_entries > INT64_MAX)
        return tq_err_set(err, TQ_EINVAL, "store: a run needs an outcome and sane sizes");
    return TQ_OK;
}

tq_rc tq_store_psi_run_admit(struct tq_store *store, struct tq_store_psi_run *run, int64_t since_us,
                             unsigned max_runs, struct tq_err *err)
{
    struct tq__engine *s;
    struct tq__conn *c = NULL;
    int64_t count = 0, id = 0;
    bool found = false;
    tq_rc rc;

    if (!store || !run)
        return tq_err_set(err, TQ_EINVAL, "store: missing store or run");
    rc = run_check(run, err);
    if (rc)
        return rc;
    s = tq__engine_of(store);
    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        goto out;
    if (max_runs) {
        rc = tq__store_read_int64(c, ST_PSI_RUN_COUNT,
                                  TQ__ARGS(TQ__ARG_TEXT(run->partner), TQ__ARG_TEXT(run->list),
                                           TQ__ARG_TEXT(run->role), TQ__ARG_INT(since_us)),
                                  &count, &found, "count psi runs", err);
        if (rc == TQ_OK && count >= (int64_t)max_runs)
            rc = tq_err_set(err, TQ_EBUSY, "store: %" PRId64 " psi runs of '%s' with %s already",
                            count, run->list, run->partner);
    }
    if (rc == TQ_OK)
        rc = tq__store_read_int64(c, ST_PSI_RUN_NEXT_ID, NULL, 0, &id, &found, "psi run key", err);
    if (rc == TQ_OK)
        rc = tq__store_run(c, ST_PSI_RUN_INSERT,
                           TQ__ARGS(TQ__ARG_INT(id), TQ__ARG_INT(run->at_us),
                                    TQ__ARG_TEXT(run->partner), TQ__ARG_TEXT(run->list),
                                    TQ__ARG_TEXT(run->role), TQ__ARG_TEXT(run->session),
                                    TQ__ARG_TEXT(run->mode), TQ__ARG_INT(run->keys_per_entry),
                                    TQ__ARG_INT((int64_t)run->own_entries),
                                    TQ__ARG_INT((int64_t)run->peer_entries),
                                    TQ__ARG_INT(run->count), TQ__ARG_TEXT(run->outcome)),
                           "insert psi run", NULL, err);
    rc = tq__store_write_end(s, c, rc, err);
    if (rc == TQ_OK)
        run->id = id;
out:
    tq__store_conn_put(s, c);
    return rc;
}

tq_rc tq_store_psi_run_update(struct tq_store *store, const struct tq_store_psi_run *run,
                              struct tq_err *err)
{
    struct tq__store_result res = {0};
    tq_rc rc;

    if (!store || !run)
        return tq_err_set(err, TQ_EINVAL, "store: missing store or run");
    rc = run_check(run, err);
    if (rc)
        return rc;
    rc = tq__store_write(tq__engine_of(store), ST_PSI_RUN_UPDATE,
                         TQ__ARGS(TQ__ARG_INT(run->id), TQ__ARG_TEXT(run->session),
                                  TQ__ARG_INT((int64_t)run->own_entries),
                                  TQ__ARG_INT((int64_t)run->peer_entries), TQ__ARG_INT(run->count),
                                  TQ__ARG_TEXT(run->outcome)),
                         "update psi run", &res, err);
    if (rc == TQ_OK && res.changes == 0)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no psi run %" PRId64, run->id);
    return rc;
}

tq_rc tq_store_psi_run_list(struct tq_store *store, const char *partner, size_t limit,
                            struct tq_store_psi_run **out, size_t *n, struct tq_err *err)
{
    struct tq__engine *s;
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    void *v = NULL;
    size_t n_v = 0;
    tq_rc rc;

    if (!store || !out || !n)
        return tq_err_set(err, TQ_EINVAL, "store: missing store or output");
    if (limit < 1 || limit > TQ_PSI_RUNS_PAGE_MAX)
        return tq_err_set(err, TQ_EINVAL, "store: psi run page limit must be 1..%d",
                          TQ_PSI_RUNS_PAGE_MAX);
    if (partner && !partner_ok(partner))
        return tq_err_set(err, TQ_EINVAL, "store: malformed partner name");
    s = tq__engine_of(store);
    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_stmt_get(c, ST_PSI_RUN_LIST, &st, err);
    if (rc == TQ_OK) {
        tq__store_bind_args(
            st, TQ__ARGS(TQ__ARG_TEXT(partner ? partner : ""), TQ__ARG_INT((int64_t)limit)));
        rc = tq__store_collect_rows(c, st, limit, sizeof(struct tq_store_psi_run), run_from_row, &v,
                                    &n_v, "list psi runs", err);
    }
    tq__store_conn_put(s, c);
    if (rc) {
        tq_free(v);
        return rc;
    }
    *out = v;
    *n = n_v;
    return TQ_OK;
}
