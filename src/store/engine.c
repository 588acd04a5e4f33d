/* SPDX-License-Identifier: Apache-2.0
 *
 * store/engine.c - the store engine: connections, statements, transactions, schema, failures.
 *
 * A pool of connections (mutex + condition variable) lets many threads read at once; each
 * public call borrows one connection for its duration and every connection keeps its own
 * prepared statements, the fixed ones in a table by statement id and the dynamically built
 * query shapes in a small cache keyed by their SQL text. SQL is built only from fixed fragments
 * and "?" placeholders; values are always bound, never spliced.
 *
 * Writers serialise on a process-local mutex first and then on the driver's write lock, so the
 * server-assigned date_added (max(now, last_date_added + 1), read and written inside the write
 * transaction) is unique and strictly increasing per collection, also across processes that
 * share the database. Every rule here and in the area files is the driver's to run, never to
 * restate: a driver supplies primitives and SQL text only (store/driver.h).
 * docs/internals/store.md describes the schema and its invariants.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/engine.h"

/* ---- failures ------------------------------------------------------------------------- */

tq_rc tq__store_fail(struct tq_err *err, struct tq__db *db, int src, const char *what)
{
    const char *msg = "unknown error";
    int code = 0;
    tq_rc rc;

    switch (src) {
    case TQ__DB_BUSY:
        rc = TQ_EBUSY;
        break;
    case TQ__DB_NOMEM:
        rc = TQ_ENOMEM;
        break;
    case TQ__DB_FULL:
        rc = TQ_ENOSPACE;
        break;
    case TQ__DB_READONLY:
        rc = TQ_EREADONLY;
        break;
    default:
        rc = TQ_ESTORE;
        break;
    }
    if (db)
        code = db->drv->last_error(db, &msg);
    return tq_err_set(err, rc, "%s: %s: %s (code %d)", db ? db->drv->name : "store", what, msg,
                      code);
}

tq_rc tq__store_exec(struct tq__conn *c, const char *sql, const char *what, struct tq_err *err)
{
    int src = c->db->drv->exec(c->db, sql);

    if (src != TQ__DB_OK)
        return tq__store_fail(err, c->db, src, what);
    return TQ_OK;
}

/* ---- connections and the pool --------------------------------------------------------- */

static void conn_close(struct tq__conn *c)
{
    const struct tq__store_driver *drv;
    size_t i;

    if (!c)
        return;
    if (c->db) {
        drv = c->db->drv;
        for (i = 0; i < ST__COUNT; i++)
            drv->finalize(c->stmts[i]);
        for (i = 0; i < DYN_CACHE; i++)
            drv->finalize(c->dyn[i].stmt);
        drv->close(c->db);
    }
    for (i = 0; i < DYN_CACHE; i++)
        tq_free(c->dyn[i].sql);
    tq_free(c);
}

static tq_rc conn_open(struct tq__engine *s, struct tq__conn **out, struct tq_err *err)
{
    struct tq__conn *c = tq_xcalloc(1, sizeof(*c));
    tq_rc rc;

    rc = s->drv->open(&s->target, &c->db, err);
    if (rc) {
        conn_close(c);
        return rc;
    }
    *out = c;
    return TQ_OK;
}

/* Borrow a connection, opening a new one while the pool is below its size. */
tq_rc tq__store_conn_get(struct tq__engine *s, struct tq__conn **out, struct tq_err *err)
{
    struct tq__conn *c = NULL;
    tq_rc rc;

    pthread_mutex_lock(&s->mu);
    while (!s->free_list && s->n_open >= s->pool_size)
        pthread_cond_wait(&s->cv, &s->mu);
    if (s->free_list) {
        c = s->free_list;
        s->free_list = c->next_free;
        pthread_mutex_unlock(&s->mu);
        *out = c;
        return TQ_OK;
    }
    s->n_open++; /* reserve the slot, open outside the lock */
    pthread_mutex_unlock(&s->mu);

    rc = conn_open(s, &c, err);
    if (rc) {
        pthread_mutex_lock(&s->mu);
        s->n_open--;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    *out = c;
    return TQ_OK;
}

/* Return a borrowed connection; a transaction left open by a failed call is rolled back. */
void tq__store_conn_put(struct tq__engine *s, struct tq__conn *c)
{
    if (!c)
        return;
    c->db->drv->rollback(c->db);
    pthread_mutex_lock(&s->mu);
    c->next_free = s->free_list;
    s->free_list = c;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* A fixed statement of c, prepared on first use; reset it with stmt_done after use. */
tq_rc tq__store_stmt_get(struct tq__conn *c, enum tq__stmt_id id, struct tq__stmt **out,
                         struct tq_err *err)
{
    int src;

    if (!c->stmts[id]) {
        src = c->db->drv->prepare(c->db, c->db->drv->sql[id], &c->stmts[id]);
        if (src != TQ__DB_OK)
            return tq__store_fail(err, c->db, src, "prepare");
    }
    *out = c->stmts[id];
    return TQ_OK;
}

void tq__store_stmt_done(struct tq__stmt *st)
{
    if (!st)
        return;
    st->drv->reset(st);
    st->drv->clear_bindings(st);
}

/* A statement for a dynamically built SQL text, from c's cache or freshly prepared. */
tq_rc tq__store_dyn_get(struct tq__conn *c, const char *sql, struct tq__stmt **out,
                        struct tq_err *err)
{
    struct dyn_stmt *victim = &c->dyn[0];
    size_t i;
    int src;

    c->clock++;
    for (i = 0; i < DYN_CACHE; i++) {
        struct dyn_stmt *d = &c->dyn[i];

        if (d->sql && strcmp(d->sql, sql) == 0) {
            d->used = c->clock;
            *out = d->stmt;
            return TQ_OK;
        }
        if (!d->sql || (victim->sql && d->used < victim->used))
            victim = d;
    }
    c->db->drv->finalize(victim->stmt);
    tq_free(victim->sql);
    victim->sql = NULL;
    victim->stmt = NULL;
    src = c->db->drv->prepare(c->db, sql, &victim->stmt);
    if (src != TQ__DB_OK)
        return tq__store_fail(err, c->db, src, "prepare query");
    victim->sql = tq_xstrdup(sql);
    victim->used = c->clock;
    *out = victim->stmt;
    return TQ_OK;
}

/* Bind args to st's parameters 1..n (struct tq__store_arg). */
void tq__store_bind_args(struct tq__stmt *st, const struct tq__store_arg *args, size_t n)
{
    size_t k;

    for (k = 0; k < n; k++) {
        const struct tq__store_arg *a = &args[k];

        switch (a->kind) {
        case TQ__ARGK_INT:
            tq__db_bind_int64(st, (int)k + 1, a->i);
            break;
        case TQ__ARGK_TEXT: /* a NULL text is SQL NULL, as with tq__store_bind_text */
            if (a->p)
                tq__db_bind_text(st, (int)k + 1, a->p, a->len);
            else
                tq__db_bind_null(st, (int)k + 1);
            break;
        case TQ__ARGK_BLOB:
            tq__db_bind_blob(st, (int)k + 1, a->p, a->len);
            break;
        case TQ__ARGK_NULL:
            tq__db_bind_null(st, (int)k + 1);
            break;
        }
    }
}

static void result_set(struct tq__store_result *res, struct tq__conn *c, int src)
{
    if (!res)
        return;
    res->src = src;
    if (src == TQ__DB_DONE)
        res->changes = tq__db_changes(c->db);
}

/*
 * Run fixed statement id bound to args, a statement that returns no rows (INSERT, UPDATE, ...),
 * on c inside whatever transaction c has open, then reset it. A step that does not finish is a
 * failure described with what; res (may be NULL) receives the step's code and effect.
 */
tq_rc tq__store_run(struct tq__conn *c, enum tq__stmt_id id, const struct tq__store_arg *args,
                    size_t n, const char *what, struct tq__store_result *res, struct tq_err *err)
{
    struct tq__stmt *st = NULL;
    tq_rc rc;
    int src;

    if (res)
        *res = (struct tq__store_result){.src = TQ__DB_OK};
    rc = tq__store_stmt_get(c, id, &st, err);
    if (rc)
        return rc;
    tq__store_bind_args(st, args, n);
    src = tq__db_step(st);
    if (src != TQ__DB_DONE)
        rc = tq__store_fail(err, c->db, src, what);
    result_set(res, c, src);
    tq__store_stmt_done(st);
    return rc;
}

/* ---- write transactions --------------------------------------------------------------- */

/* Begin a write transaction: this process's writer mutex, then the database write lock. */
tq_rc tq__store_write_begin(struct tq__engine *s, struct tq__conn *c, struct tq_err *err)
{
    int src;

    if (s->target.disk_full)
        return tq_err_set(err, TQ_ENOSPACE,
                          "%s: the disk of %s is full: the node is "
                          "read-only until it has room and restarts",
                          s->drv->name, s->target.path);
    if (s->target.read_only)
        return tq_err_set(err, TQ_EREADONLY,
                          "%s: the store is open read-only (a replica): writes go to the primary",
                          s->drv->name);
    pthread_mutex_lock(&s->write_mu);
    src = s->drv->begin_write(c->db);
    if (src == TQ__DB_OK || src == TQ__DB_DONE)
        return TQ_OK;
    pthread_mutex_unlock(&s->write_mu);
    return tq__store_fail(err, c->db, src, "begin write transaction");
}

/* Commit (durable on return), or roll back when rc says so. */
tq_rc tq__store_write_end(struct tq__engine *s, struct tq__conn *c, tq_rc rc, struct tq_err *err)
{
    int src;

    if (rc == TQ_OK) {
        src = s->drv->commit(c->db);
        if (src != TQ__DB_OK && src != TQ__DB_DONE)
            rc = tq__store_fail(err, c->db, src, "commit");
    }
    if (rc != TQ_OK)
        s->drv->rollback(c->db);
    pthread_mutex_unlock(&s->write_mu);
    return rc;
}

/* ---- the signer lock ------------------------------------------------------------------ */

#define SIGNER_LOCK_KEY 2

tq_rc tq__engine_signer_run(struct tq_store *store, tq_rc (*fn)(void *ud, struct tq_err *err),
                            void *ud, struct tq_err *err)
{
    struct tq__engine *s = tq__engine_of(store);
    tq_rc rc = TQ_OK;
    int src;

    pthread_mutex_lock(&s->signer_mu);
    if (s->drv->session_lock) {
        if (!s->signer_db)
            rc = s->drv->open(&s->target, &s->signer_db, err);
        if (rc == TQ_OK) {
            src = s->drv->session_lock(s->signer_db, SIGNER_LOCK_KEY, true);
            if (src != TQ__DB_OK)
                rc = tq__store_fail(err, s->signer_db, src, "take the signer lock");
        }
        if (rc) {
            pthread_mutex_unlock(&s->signer_mu);
            return rc;
        }
    }
    rc = fn(ud, err);
    /* A session lost meanwhile took the lock with it; the next take re-establishes it. */
    if (s->drv->session_lock)
        s->drv->session_lock(s->signer_db, SIGNER_LOCK_KEY, false);
    pthread_mutex_unlock(&s->signer_mu);
    return rc;
}

/* ---- open, schema and close ----------------------------------------------------------- */

static tq_rc read_schema_version(struct tq__conn *c, int *out, struct tq_err *err)
{
    int src = c->db->drv->schema_version(c->db, out);

    if (src != TQ__DB_OK)
        return tq__store_fail(err, c->db, src, "read schema version");
    return TQ_OK;
}

/* Create or migrate the schema inside one write transaction (safe against a concurrent open). */
static tq_rc schema_ensure(struct tq__engine *s, struct tq__conn *c, struct tq_err *err)
{
    int version = 0;
    int src;
    tq_rc rc;

    rc = read_schema_version(c, &version, err);
    if (rc)
        return rc;
    if (version > TQ_STORE_SCHEMA_VERSION)
        return tq_err_set(err, TQ_ESTORE,
                          "%s: database schema version %d is newer than this build (%d)",
                          s->drv->name, version, TQ_STORE_SCHEMA_VERSION);
    if (version == TQ_STORE_SCHEMA_VERSION)
        return TQ_OK;
    if (version == 0 && s->target.must_exist)
        return tq_err_set(err, TQ_ECONFIG,
                          "%s holds no tansiq store (only 'tansiq init' makes one)",
                          s->target.path);
    if (s->target.read_only)
        return tq_err_set(err, TQ_ESTORE,
                          "%s: database schema version %d needs migration, opened read-only",
                          s->drv->name, version);

    rc = tq__store_write_begin(s, c, err);
    if (rc)
        return rc;
    /* Another process may have migrated between the first read and our write lock. */
    rc = read_schema_version(c, &version, err);
    while (rc == TQ_OK && version < TQ_STORE_SCHEMA_VERSION) {
        rc = tq__store_exec(c, s->drv->migrations[version], "migrate schema", err);
        if (rc)
            break;
        version++;
        src = s->drv->schema_version_set(c->db, version);
        if (src != TQ__DB_OK)
            rc = tq__store_fail(err, c->db, src, "set schema version");
    }
    rc = tq__store_write_end(s, c, rc, err);
    if (rc == TQ_OK)
        tq_log(TQ_LOG_INFO, "store: schema at version %d path=%s", version, s->target.path);
    return rc;
}

bool tq__engine_read_only(struct tq_store *store)
{
    return tq__engine_of(store)->target.read_only;
}

void tq__engine_close(struct tq_store *store)
{
    struct tq__engine *s = tq__engine_of(store);
    struct tq__conn *c;

    /* The caller guarantees no call is in flight, so every connection is idle. */
    while (s->free_list) {
        c = s->free_list;
        s->free_list = c->next_free;
        conn_close(c);
    }
    if (s->signer_db)
        s->drv->close(s->signer_db);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->write_mu);
    pthread_mutex_destroy(&s->signer_mu);
    pthread_mutex_destroy(&s->inc_mu);
    tq__inc_cache_free(s->inc_cache);
    tq_free((char *)s->target.path);
    tq_free(s);
}

tq_rc tq__store_engine_open(const struct tq__store_driver *drv, const char *target,
                            const struct tq_store_options *opt, struct tq_store **out,
                            struct tq_err *err)
{
    struct tq__engine *s = NULL;
    struct tq__conn *c = NULL;
    tq_rc rc;

    s = tq_xcalloc(1, sizeof(*s));
    s->base.driver = drv->name;
    s->drv = drv;
    s->target.path = tq_xstrdup(target);
    s->target.read_only = opt->read_only;
    s->target.must_exist = opt->must_exist;
    s->target.statement_timeout_ms = opt->statement_timeout_ms;
    s->target.lock_timeout_ms = opt->lock_timeout_ms;
    s->pool_size = opt->pool_size ? opt->pool_size : TQ_STORE_POOL_DEFAULT;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->write_mu, NULL);
    pthread_mutex_init(&s->signer_mu, NULL);
    pthread_mutex_init(&s->inc_mu, NULL);

    rc = drv->target_prepare(&s->target, err);
    if (rc == TQ_OK)
        rc = tq__store_conn_get(s, &c, err);
    if (rc && !s->target.read_only && drv->target_full && drv->target_full(&s->target)) {
        /*
         * A node whose disk filled up still serves what it holds: read-only, every write
         * answered TQ_ENOSPACE (507). It needs a restart once there is room again.
         */
        tq_log(TQ_LOG_WARN,
               "store: the disk of %s is full: opened read-only, writes refused "
               "until it has room and the node restarts (%s)",
               s->target.path, err ? err->msg : "");
        s->target.read_only = s->target.disk_full = true;
        tq_err_clear(err);
        rc = tq__store_conn_get(s, &c, err);
    }
    if (rc)
        goto out;
    rc = schema_ensure(s, c, err);
    tq__store_conn_put(s, c);
    if (rc)
        goto out;
    *out = &s->base;
    s = NULL;
out:
    if (s)
        tq__engine_close(&s->base);
    return rc;
}

/* ---- small helpers -------------------------------------------------------------------- */

char *tq__store_column_dup(struct tq__stmt *st, int col)
{
    const char *t = tq__db_col_text(st, col);

    if (!t)
        return NULL;
    return tq_xstrndup((const char *)t, (size_t)tq__db_col_bytes(st, col));
}

void tq__store_bind_text(struct tq__stmt *st, int i, const char *s)
{
    if (s)
        tq__db_bind_text(st, i, s, -1);
    else
        tq__db_bind_null(st, i);
}

void tq__store_bind_str(struct tq__stmt *st, int i, struct tq_str s)
{
    tq__db_bind_text(st, i, s.ptr ? s.ptr : "", (int)s.len);
}

/* True when src is a uniqueness failure (primary key or UNIQUE), i.e. a duplicate. */
bool tq__store_is_duplicate(int src)
{
    return src == TQ__DB_DUPLICATE;
}

/*
 * Step fixed statement id bound to args once on c: on a row fill(st, out) reads it (column
 * memory is valid only inside fill) and *found is true; without a row *found is false, or, when
 * found is NULL, a row was due and its absence is a failure like any other code (what).
 */
tq_rc tq__store_read_row(struct tq__conn *c, enum tq__stmt_id id, const struct tq__store_arg *args,
                         size_t n, void (*fill)(struct tq__stmt *st, void *out), void *out,
                         bool *found, const char *what, struct tq_err *err)
{
    struct tq__stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = tq__store_stmt_get(c, id, &st, err);
    if (rc)
        return rc;
    tq__store_bind_args(st, args, n);
    src = tq__db_step(st);
    if (src == TQ__DB_ROW)
        fill(st, out);
    if (found && (src == TQ__DB_ROW || src == TQ__DB_DONE))
        *found = src == TQ__DB_ROW;
    else if (src != TQ__DB_ROW)
        rc = tq__store_fail(err, c->db, src, what);
    tq__store_stmt_done(st);
    return rc;
}

static void int64_from_row(struct tq__stmt *st, void *out)
{
    *(int64_t *)out = tq__db_col_int64(st, 0);
}

/* tq__store_read_row of the first column as an integer; *out is left alone without a row. */
tq_rc tq__store_read_int64(struct tq__conn *c, enum tq__stmt_id id,
                           const struct tq__store_arg *args, size_t n, int64_t *out, bool *found,
                           const char *what, struct tq_err *err)
{
    return tq__store_read_row(c, id, args, n, int64_from_row, out, found, what, err);
}

/* tq__store_read_row of the first column as an owned copy (NULL for SQL NULL). */
tq_rc tq__store_read_text(struct tq__conn *c, enum tq__stmt_id id, const struct tq__store_arg *args,
                          size_t n, char **out, bool *found, const char *what, struct tq_err *err)
{
    return tq__store_read_row(c, id, args, n, tq__store_text_from_row, out, found, what, err);
}

/*
 * Resolve a collection UUID or alias to its key and, when last_date_added is wanted, its
 * date_added clock. Only writers read the clock, so that read goes through ST_COLL_LOCK, which
 * locks the collection row where the driver's write lock does not already cover it.
 */
struct coll_key {
    int64_t *cid, *last_date_added;
};

static void coll_key_from_row(struct tq__stmt *st, void *out)
{
    struct coll_key *k = out;

    *k->cid = tq__db_col_int64(st, 0);
    if (k->last_date_added)
        *k->last_date_added = tq__db_col_int64(st, 1);
}

tq_rc tq__store_collection_resolve(struct tq__conn *c, const char *id_or_alias, int64_t *cid,
                                   int64_t *last_date_added, struct tq_err *err)
{
    struct coll_key k = {cid, last_date_added};
    bool found = false;
    tq_rc rc;

    rc = tq__store_read_row(c, last_date_added ? ST_COLL_LOCK : ST_COLL_RESOLVE,
                            TQ__ARGS(TQ__ARG_TEXT(id_or_alias)), coll_key_from_row, &k, &found,
                            "resolve collection", err);
    if (rc == TQ_OK && !found)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no collection '%.64s'", id_or_alias);
    return rc;
}

/* The integer key of a name through a one-column statement; TQ_ENOTFOUND when absent. */
tq_rc tq__store_lookup_key(struct tq__conn *c, enum tq__stmt_id id, const char *name, int64_t *key,
                           const char *what, struct tq_err *err)
{
    bool found = false;
    tq_rc rc;

    rc = tq__store_read_int64(c, id, TQ__ARGS(TQ__ARG_TEXT(name)), key, &found, what, err);
    if (rc == TQ_OK && !found)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no %s '%.64s'", what, name);
    return rc;
}

/*
 * The one row statement id finds for a key, read on a connection of its own: the text key, or
 * num when key is NULL. fill(st, out) on a row, TQ_ENOTFOUND ("store: no <what> <key>") when
 * there is none.
 */
tq_rc tq__store_row_get(struct tq__engine *s, enum tq__stmt_id id, const char *key, int64_t num,
                        void (*fill)(struct tq__stmt *st, void *out), void *out, const char *what,
                        struct tq_err *err)
{
    struct tq__store_arg arg = key ? TQ__ARG_TEXT(key) : TQ__ARG_INT(num);
    struct tq__conn *c = NULL;
    bool found = false;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_read_row(c, id, &arg, 1, fill, out, &found, what, err);
    if (rc == TQ_OK && !found && key)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no %s '%.64s'", what, key);
    else if (rc == TQ_OK && !found)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no %s %" PRId64, what, num);
    tq__store_conn_put(s, c);
    return rc;
}

void tq__store_text_from_row(struct tq__stmt *st, void *out)
{
    *(char **)out = tq__store_column_dup(st, 0);
}

/*
 * Run fixed statement id bound to args, a single-statement write, on c as its own IMMEDIATE
 * transaction, so that it waits for other writers instead of failing on a stale read snapshot.
 * On failure err is set (what describes the step); res (may be NULL) receives the step's code,
 * for a finer mapping, and its effect, read while c is still the caller's.
 */
tq_rc tq__store_write_on(struct tq__engine *s, struct tq__conn *c, enum tq__stmt_id id,
                         const struct tq__store_arg *args, size_t n, const char *what,
                         struct tq__store_result *res, struct tq_err *err)
{
    tq_rc rc;

    if (res)
        *res = (struct tq__store_result){.src = TQ__DB_OK};
    rc = tq__store_write_begin(s, c, err);
    if (rc)
        return rc;
    rc = tq__store_run(c, id, args, n, what, res, err);
    return tq__store_write_end(s, c, rc, err);
}

/* tq__store_write_on with a connection borrowed for the call. */
tq_rc tq__store_write(struct tq__engine *s, enum tq__stmt_id id, const struct tq__store_arg *args,
                      size_t n, const char *what, struct tq__store_result *res, struct tq_err *err)
{
    struct tq__conn *c = NULL;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_write_on(s, c, id, args, n, what, res, err);
    tq__store_conn_put(s, c);
    return rc;
}

/*
 * Run a listing statement and fill one element of elem_size per row with from_row. On TQ_OK
 * *out is an array of *n_out (the caller's list type, freed with its _list_free); on failure
 * free_list releases what was read.
 */
tq_rc tq__store_collect_rows(struct tq__conn *c, struct tq__stmt *st, size_t max, size_t elem_size,
                             void (*from_row)(struct tq__stmt *st, void *elem), void **out,
                             size_t *n_out, const char *what, struct tq_err *err)
{
    char *v = NULL;
    size_t n = 0, cap = 0;
    int src = TQ__DB_DONE;
    tq_rc rc = TQ_OK;

    while (n < max) {
        src = tq__db_step(st);
        if (src != TQ__DB_ROW)
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            v = tq_xrealloc(v, cap * elem_size);
        }
        from_row(st, v + n++ * elem_size);
    }
    if (n < max && src != TQ__DB_DONE)
        rc = tq__store_fail(err, c->db, src, what);
    tq__store_stmt_done(st);
    *out = v;
    *n_out = n;
    return rc;
}

tq_rc tq__store_list_rows(struct tq__engine *s, enum tq__stmt_id stmt_id, size_t elem_size,
                          void (*from_row)(struct tq__stmt *st, void *elem),
                          void (*free_list)(void *v, size_t n), const char *what, void **out,
                          size_t *n_out, struct tq_err *err)
{
    struct tq__conn *c = NULL;
    struct tq__stmt *st = NULL;
    void *v = NULL;
    size_t n = 0;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_stmt_get(c, stmt_id, &st, err);
    if (rc == TQ_OK)
        rc = tq__store_collect_rows(c, st, SIZE_MAX, elem_size, from_row, &v, &n, what, err);
    tq__store_conn_put(s, c);
    if (rc) {
        if (v)
            free_list(v, n);
        return rc;
    }
    *out = v;
    *n_out = n;
    return TQ_OK;
}

/* Append a new string to a growing array. */
void tq__store_vec_push(char ***v, size_t n, size_t *cap, char *s)
{
    if (n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *v = tq_xrealloc(*v, *cap * sizeof(**v));
    }
    (*v)[n] = s;
}

/* The UUID of a collection key (the caller may have been given an alias). */
tq_rc tq__store_collection_uuid(struct tq__conn *c, const char *id_or_alias, char uuid[37],
                                struct tq_err *err)
{
    return tq__store_perm_collection_key(c, id_or_alias, true, uuid, err);
}

/* The key of a partner by name; TQ_ENOTFOUND when unknown. */
tq_rc tq__store_partner_pid(struct tq__conn *c, const char *name, int64_t *pid, struct tq_err *err)
{
    return tq__store_lookup_key(c, ST_PARTNER_PID, name, pid, "partner", err);
}

/* Run a one-column lookup of a fixed statement bound to one text value. */
tq_rc tq__store_lookup_text(struct tq__engine *s, enum tq__stmt_id id, const void *key, int key_len,
                            bool key_blob, char **out, const char *what, struct tq_err *err)
{
    struct tq__store_arg arg = key_blob ? TQ__ARG_BLOB(key, key_len) : TQ__ARG_TEXTN(key, key_len);
    struct tq__conn *c = NULL;
    bool found = false;
    tq_rc rc;

    rc = tq__store_conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = tq__store_read_text(c, id, &arg, 1, out, &found, what, err);
    if (rc == TQ_OK && !found)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no such %s", what);
    tq__store_conn_put(s, c);
    return rc;
}

/* Collect the first column of every row of a statement bound with (key) or nothing. */
tq_rc tq__store_collect_names(struct tq__conn *c, struct tq__stmt *st, char ***out, size_t *n_out,
                              struct tq_err *err)
{
    char **v = NULL;
    size_t n = 0, cap = 0;
    int src;

    for (;;) {
        src = tq__db_step(st);
        if (src != TQ__DB_ROW)
            break;
        tq__store_vec_push(&v, n, &cap, tq__store_column_dup(st, 0));
        n++;
    }
    if (src != TQ__DB_DONE) {
        tq_store_names_free(v, n);
        return tq__store_fail(err, c->db, src, "list names");
    }
    *out = v;
    *n_out = n;
    return TQ_OK;
}

const char *tq__store_dup_or_null(const char *s)
{
    return s ? tq_xstrdup(s) : NULL;
}
