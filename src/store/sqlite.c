/* SPDX-License-Identifier: Apache-2.0
 *
 * store/sqlite.c - the embedded SQLite backend of the store.
 *
 * One database file in WAL mode with synchronous=FULL: a call that writes returns only after
 * its COMMIT reached the disk, so an acknowledged object survives kill -9 and power loss. A
 * pool of connections (mutex + condition variable) lets many threads read at once; each public
 * call borrows one connection for its duration and every connection keeps its own prepared
 * statements, the fixed ones in a table and the dynamically built query shapes in a small
 * cache keyed by their SQL text. SQL is built only from fixed fragments and "?" placeholders;
 * values are always bound, never spliced.
 *
 * Writers serialise on a process-local mutex first and then on BEGIN IMMEDIATE, so the
 * server-assigned date_added (max(now, last_date_added + 1), read and written inside the write
 * transaction) is unique and strictly increasing per collection, also across processes that
 * share the file. docs/internals/store.md describes the schema and its invariants.
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store.h"

/* ---- schema --------------------------------------------------------------------------- */

/*
 * Version 1. Objects refer to their collection by the collection's integer key (cid) rather
 * than by its 36-character UUID, which keeps every index on objects small. json is the last
 * column so that reading the others never touches its overflow pages.
 */
static const char schema_v1[] =
    "CREATE TABLE meta("
    "  k TEXT PRIMARY KEY,"
    "  v TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE collections("
    "  cid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  alias TEXT UNIQUE,"
    "  title TEXT NOT NULL,"
    "  description TEXT,"
    "  last_date_added INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE objects("
    "  collection INTEGER NOT NULL REFERENCES collections(cid) ON DELETE CASCADE,"
    "  id TEXT NOT NULL,"
    "  version_us INTEGER NOT NULL,"
    "  date_added_us INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  spec_version TEXT NOT NULL,"
    "  is_first INTEGER NOT NULL,"
    "  is_last INTEGER NOT NULL,"
    "  json TEXT NOT NULL,"
    "  PRIMARY KEY (collection, id, version_us),"
    "  UNIQUE (collection, date_added_us)"
    ");"
    "CREATE INDEX objects_type ON objects(collection, type, date_added_us);"
    "CREATE TABLE status("
    "  id TEXT PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  json TEXT NOT NULL"
    ");"
    "CREATE INDEX status_created ON status(created_us);"
    "CREATE TABLE users("
    "  name TEXT PRIMARY KEY,"
    "  pwhash TEXT NOT NULL"
    ");"
    "CREATE TABLE tokens("
    "  hash BLOB PRIMARY KEY CHECK (length(hash) = 32),"
    "  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
    "  label TEXT,"
    "  created INTEGER NOT NULL"
    ");"
    "CREATE INDEX tokens_user ON tokens(user);"
    "CREATE TABLE perms("
    "  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
    "  collection TEXT NOT NULL,"
    "  can_read INTEGER NOT NULL,"
    "  can_write INTEGER NOT NULL,"
    "  PRIMARY KEY (user, collection)"
    ") WITHOUT ROWID;";

/* migrations[v] brings a database from user_version v to v + 1. */
static const char *const migrations[] = {schema_v1};

static_assert(sizeof(migrations) / sizeof(migrations[0]) == TQ_STORE_SCHEMA_VERSION,
              "one migration per schema version");

/* ---- fixed statements ----------------------------------------------------------------- */

enum stmt_id {
    ST_BEGIN,
    ST_BEGIN_IMMEDIATE,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_META_GET,
    ST_META_SET,
    ST_COLL_ADD,
    ST_COLL_GET,
    ST_COLL_LIST,
    ST_COLL_RESOLVE,
    ST_COLL_SET_LAST,
    ST_OBJ_MINMAX,
    ST_OBJ_LOOKUP,
    ST_OBJ_INSERT,
    ST_OBJ_CLEAR_FIRST,
    ST_OBJ_CLEAR_LAST,
    ST_OBJ_REFLAG,
    ST_COUNT_ALL,
    ST_COUNT_COLL,
    ST_STATUS_PUT,
    ST_STATUS_GET,
    ST_STATUS_PURGE,
    ST_USER_PUT,
    ST_USER_GET,
    ST_USER_DELETE,
    ST_USER_LIST,
    ST_TOKEN_ADD,
    ST_TOKEN_LOOKUP,
    ST_PERM_SET,
    ST_PERM_GET,
    ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN",
    [ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_META_GET] = "SELECT v FROM meta WHERE k = ?1",
    [ST_META_SET] = "INSERT INTO meta(k, v) VALUES (?1, ?2) ON CONFLICT(k) DO UPDATE SET v = "
                    "excluded.v",
    [ST_COLL_ADD] =
        "INSERT INTO collections(id, alias, title, description) VALUES (?1, ?2, ?3, ?4)",
    [ST_COLL_GET] = "SELECT id, alias, title, description FROM collections WHERE id = ?1 "
                    "UNION ALL SELECT id, alias, title, description FROM collections "
                    "WHERE alias = ?1 LIMIT 1",
    [ST_COLL_LIST] = "SELECT id, alias, title, description FROM collections ORDER BY title, id",
    [ST_COLL_RESOLVE] = "SELECT cid, last_date_added FROM collections WHERE id = ?1 "
                        "UNION ALL SELECT cid, last_date_added FROM collections "
                        "WHERE alias = ?1 LIMIT 1",
    [ST_COLL_SET_LAST] = "UPDATE collections SET last_date_added = ?2 WHERE cid = ?1",
    [ST_OBJ_MINMAX] = "SELECT min(version_us), max(version_us) FROM objects "
                      "WHERE collection = ?1 AND id = ?2",
    [ST_OBJ_LOOKUP] = "SELECT date_added_us FROM objects "
                      "WHERE collection = ?1 AND id = ?2 AND version_us = ?3",
    [ST_OBJ_INSERT] = "INSERT INTO objects(collection, id, version_us, date_added_us, type, "
                      "spec_version, is_first, is_last, json) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_OBJ_CLEAR_FIRST] = "UPDATE objects SET is_first = 0 "
                           "WHERE collection = ?1 AND id = ?2 AND is_first",
    [ST_OBJ_CLEAR_LAST] = "UPDATE objects SET is_last = 0 "
                          "WHERE collection = ?1 AND id = ?2 AND is_last",
    [ST_OBJ_REFLAG] = "UPDATE objects SET "
                      "is_first = (version_us = (SELECT min(version_us) FROM objects "
                      "  WHERE collection = ?1 AND id = ?2)), "
                      "is_last = (version_us = (SELECT max(version_us) FROM objects "
                      "  WHERE collection = ?1 AND id = ?2)) "
                      "WHERE collection = ?1 AND id = ?2",
    [ST_COUNT_ALL] = "SELECT count(*) FROM objects",
    [ST_COUNT_COLL] = "SELECT count(*) FROM objects WHERE collection = ?1",
    [ST_STATUS_PUT] = "INSERT INTO status(id, owner, created_us, json) VALUES (?1, ?2, ?3, ?4) "
                      "ON CONFLICT(id) DO UPDATE SET json = excluded.json "
                      "WHERE status.owner = excluded.owner",
    [ST_STATUS_GET] = "SELECT owner, json FROM status WHERE id = ?1",
    [ST_STATUS_PURGE] = "DELETE FROM status WHERE created_us < ?1",
    [ST_USER_PUT] = "INSERT INTO users(name, pwhash) VALUES (?1, ?2) "
                    "ON CONFLICT(name) DO UPDATE SET pwhash = excluded.pwhash",
    [ST_USER_GET] = "SELECT pwhash FROM users WHERE name = ?1",
    [ST_USER_DELETE] = "DELETE FROM users WHERE name = ?1",
    [ST_USER_LIST] = "SELECT name FROM users ORDER BY name",
    [ST_TOKEN_ADD] = "INSERT INTO tokens(hash, user, label, created) VALUES (?1, ?2, ?3, ?4)",
    [ST_TOKEN_LOOKUP] = "SELECT user FROM tokens WHERE hash = ?1",
    [ST_PERM_SET] = "INSERT INTO perms(user, collection, can_read, can_write) "
                    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(user, collection) DO UPDATE SET "
                    "can_read = excluded.can_read, can_write = excluded.can_write",
    [ST_PERM_GET] = "SELECT max(can_read), max(can_write) FROM perms "
                    "WHERE user = ?1 AND collection IN (?2, '*')",
};

/* ---- connections and the pool --------------------------------------------------------- */

/* Dynamically built statements (queries, deletes) cached per connection by SQL text. */
#define DYN_CACHE 16

struct dyn_stmt {
    char *sql;
    sqlite3_stmt *stmt;
    uint64_t used; /* clock value of the last use, for least-recently-used eviction */
};

struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST__COUNT];
    struct dyn_stmt dyn[DYN_CACHE];
    uint64_t clock;
    struct conn *next_free;
};

struct sqlite_store {
    struct tq_store base; /* first: the front end holds &base */
    char *path;
    bool read_only;
    unsigned pool_size;
    unsigned n_open;        /* connections opened, idle or borrowed */
    struct conn *free_list; /* idle connections */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /*
     * Writers of this process queue here before BEGIN IMMEDIATE, so contention inside one
     * process waits on a mutex instead of SQLite's sleeping busy handler. Other processes are
     * still excluded by the database lock (busy_timeout).
     */
    pthread_mutex_t write_mu;
};

#define BUSY_TIMEOUT_MS 10000

static struct sqlite_store *from_base(struct tq_store *store)
{
    return (struct sqlite_store *)store;
}

/* Map an SQLite result code to a tq_rc and record what failed with SQLite's message. */
static tq_rc db_fail(struct tq_err *err, sqlite3 *db, int src, const char *what)
{
    tq_rc rc;

    switch (src & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        rc = TQ_EBUSY;
        break;
    case SQLITE_NOMEM:
        rc = TQ_ENOMEM;
        break;
    default:
        rc = TQ_ESTORE;
        break;
    }
    return tq_err_set(err, rc, "sqlite: %s: %s (code %d)", what,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(src), src);
}

static void conn_close(struct conn *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    for (i = 0; i < DYN_CACHE; i++) {
        sqlite3_finalize(c->dyn[i].stmt);
        tq_free(c->dyn[i].sql);
    }
    sqlite3_close(c->db);
    tq_free(c);
}

static tq_rc exec_sql(sqlite3 *db, const char *sql, const char *what, struct tq_err *err)
{
    int src = sqlite3_exec(db, sql, NULL, NULL, NULL);

    if (src != SQLITE_OK)
        return db_fail(err, db, src, what);
    return TQ_OK;
}

static tq_rc conn_open(struct sqlite_store *s, struct conn **out, struct tq_err *err)
{
    struct conn *c = tq_xcalloc(1, sizeof(*c));
    int flags = SQLITE_OPEN_NOMUTEX; /* a connection is only ever used by one thread at a time */
    int src;
    tq_rc rc;

    flags |= s->read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    src = sqlite3_open_v2(s->path, &c->db, flags, NULL);
    if (src != SQLITE_OK) {
        rc = db_fail(err, c->db, src, "open");
        goto out;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    rc = exec_sql(c->db,
                  "PRAGMA foreign_keys = ON;"
                  "PRAGMA synchronous = FULL;"
                  "PRAGMA temp_store = MEMORY;"
                  "PRAGMA cache_size = -16384;",
                  "configure connection", err);
    if (rc)
        goto out;
    if (!s->read_only) {
        /* Persistent in the file once set; repeating it costs one lock round trip. */
        rc = exec_sql(c->db, "PRAGMA journal_mode = WAL;", "enable WAL", err);
        if (rc)
            goto out;
    }
    *out = c;
    c = NULL;
out:
    conn_close(c);
    return rc;
}

/* Borrow a connection, opening a new one while the pool is below its size. */
static tq_rc conn_get(struct sqlite_store *s, struct conn **out, struct tq_err *err)
{
    struct conn *c = NULL;
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
static void conn_put(struct sqlite_store *s, struct conn *c)
{
    if (!c)
        return;
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_lock(&s->mu);
    c->next_free = s->free_list;
    s->free_list = c;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* A fixed statement of c, prepared on first use; reset it with stmt_done after use. */
static tq_rc stmt_get(struct conn *c, enum stmt_id id, sqlite3_stmt **out, struct tq_err *err)
{
    int src;

    if (!c->stmts[id]) {
        src = sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[id],
                                 NULL);
        if (src != SQLITE_OK)
            return db_fail(err, c->db, src, "prepare");
    }
    *out = c->stmts[id];
    return TQ_OK;
}

static void stmt_done(sqlite3_stmt *st)
{
    if (!st)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* A statement for a dynamically built SQL text, from c's cache or freshly prepared. */
static tq_rc dyn_get(struct conn *c, const char *sql, sqlite3_stmt **out, struct tq_err *err)
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
    sqlite3_finalize(victim->stmt);
    tq_free(victim->sql);
    victim->sql = NULL;
    victim->stmt = NULL;
    src = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &victim->stmt, NULL);
    if (src != SQLITE_OK)
        return db_fail(err, c->db, src, "prepare query");
    victim->sql = tq_xstrdup(sql);
    victim->used = c->clock;
    *out = victim->stmt;
    return TQ_OK;
}

/* Run a statement that returns no rows (BEGIN, COMMIT, INSERT ...), then reset it. */
static tq_rc run_simple(struct conn *c, enum stmt_id id, const char *what, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = stmt_get(c, id, &st, err);
    if (rc)
        return rc;
    src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = db_fail(err, c->db, src, what);
    stmt_done(st);
    return rc;
}

/* Begin a write transaction: this process's writer mutex, then the database write lock. */
static tq_rc write_begin(struct sqlite_store *s, struct conn *c, struct tq_err *err)
{
    tq_rc rc;

    pthread_mutex_lock(&s->write_mu);
    rc = run_simple(c, ST_BEGIN_IMMEDIATE, "begin write transaction", err);
    if (rc)
        pthread_mutex_unlock(&s->write_mu);
    return rc;
}

/* Commit (durable on return with synchronous=FULL), or roll back when rc says so. */
static tq_rc write_end(struct sqlite_store *s, struct conn *c, tq_rc rc, struct tq_err *err)
{
    if (rc == TQ_OK)
        rc = run_simple(c, ST_COMMIT, "commit", err);
    if (rc != TQ_OK && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->write_mu);
    return rc;
}

/* ---- open, schema and close ----------------------------------------------------------- */

static tq_rc read_user_version(struct conn *c, int *out, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    int src;
    tq_rc rc = TQ_OK;

    src = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL);
    if (src != SQLITE_OK)
        return db_fail(err, c->db, src, "read schema version");
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    else
        rc = db_fail(err, c->db, src, "read schema version");
    sqlite3_finalize(st);
    return rc;
}

/* Create or migrate the schema inside one write transaction (safe against a concurrent open). */
static tq_rc schema_ensure(struct sqlite_store *s, struct conn *c, struct tq_err *err)
{
    char pragma[64];
    int version = 0;
    tq_rc rc;

    rc = read_user_version(c, &version, err);
    if (rc)
        return rc;
    if (version > TQ_STORE_SCHEMA_VERSION)
        return tq_err_set(err, TQ_ESTORE,
                          "sqlite: database schema version %d is newer than this build (%d)",
                          version, TQ_STORE_SCHEMA_VERSION);
    if (version == TQ_STORE_SCHEMA_VERSION)
        return TQ_OK;
    if (s->read_only)
        return tq_err_set(err, TQ_ESTORE,
                          "sqlite: database schema version %d needs migration, opened read-only",
                          version);

    rc = write_begin(s, c, err);
    if (rc)
        return rc;
    /* Another process may have migrated between the first read and our write lock. */
    rc = read_user_version(c, &version, err);
    while (rc == TQ_OK && version < TQ_STORE_SCHEMA_VERSION) {
        rc = exec_sql(c->db, migrations[version], "migrate schema", err);
        if (rc)
            break;
        version++;
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
        rc = exec_sql(c->db, pragma, "set schema version", err);
    }
    rc = write_end(s, c, rc, err);
    if (rc == TQ_OK)
        tq_log(TQ_LOG_INFO, "store: schema at version %d path=%s", version, s->path);
    return rc;
}

static void sqlite_close(struct tq_store *store)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c;

    /* The caller guarantees no call is in flight, so every connection is idle. */
    while (s->free_list) {
        c = s->free_list;
        s->free_list = c->next_free;
        conn_close(c);
    }
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->write_mu);
    tq_free(s->path);
    tq_free(s);
}

static const struct tq_store_ops sqlite_ops;

tq_rc tq__store_sqlite_open(const char *path, const struct tq_store_options *opt,
                            struct tq_store **out, struct tq_err *err)
{
    struct sqlite_store *s = NULL;
    struct conn *c = NULL;
    tq_rc rc;

    if (!sqlite3_threadsafe())
        return tq_err_set(err, TQ_ENOTSUP, "sqlite: library built without thread support");
    s = tq_xcalloc(1, sizeof(*s));
    s->base.ops = &sqlite_ops;
    s->path = tq_xstrdup(path);
    s->read_only = opt->read_only;
    s->pool_size = opt->pool_size ? opt->pool_size : TQ_STORE_POOL_DEFAULT;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->write_mu, NULL);

    rc = conn_get(s, &c, err);
    if (rc)
        goto out;
    rc = schema_ensure(s, c, err);
    conn_put(s, c);
    if (rc)
        goto out;
    *out = &s->base;
    s = NULL;
out:
    if (s)
        sqlite_close(&s->base);
    return rc;
}

/* ---- small helpers -------------------------------------------------------------------- */

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    if (!t)
        return NULL;
    return tq_xstrndup((const char *)t, (size_t)sqlite3_column_bytes(st, col));
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_str(sqlite3_stmt *st, int i, struct tq_str s)
{
    sqlite3_bind_text(st, i, s.ptr ? s.ptr : "", (int)s.len, SQLITE_STATIC);
}

/* True when src is a uniqueness failure (primary key or UNIQUE), i.e. a duplicate. */
static bool is_duplicate(int src)
{
    return src == SQLITE_CONSTRAINT_UNIQUE || src == SQLITE_CONSTRAINT_PRIMARYKEY;
}

/* Resolve a collection UUID or alias to its key and last date_added. */
static tq_rc collection_resolve(struct conn *c, const char *id_or_alias, int64_t *cid,
                                int64_t *last_date_added, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = stmt_get(c, ST_COLL_RESOLVE, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, id_or_alias);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *cid = sqlite3_column_int64(st, 0);
        if (last_date_added)
            *last_date_added = sqlite3_column_int64(st, 1);
    } else if (src == SQLITE_DONE) {
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no collection '%.64s'", id_or_alias);
    } else {
        rc = db_fail(err, c->db, src, "resolve collection");
    }
    stmt_done(st);
    return rc;
}

/* ---- meta ----------------------------------------------------------------------------- */

static tq_rc sqlite_meta_get(struct tq_store *store, const char *key, char **value_out,
                             struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_META_GET, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, key);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *value_out = column_dup(st, 0);
    else if (src == SQLITE_DONE)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no meta key '%.64s'", key);
    else
        rc = db_fail(err, c->db, src, "read meta");
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

/*
 * Run one bound single-statement write as its own IMMEDIATE transaction, so that it waits for
 * other writers through the busy handler instead of failing on a stale read snapshot. On
 * failure err is set and *src_out (may be NULL) receives the SQLite code for finer mapping.
 */
static tq_rc step_write(struct sqlite_store *s, struct conn *c, sqlite3_stmt *st, const char *what,
                        int *src_out, struct tq_err *err)
{
    tq_rc rc;
    int src;

    if (src_out)
        *src_out = SQLITE_OK;
    rc = write_begin(s, c, err);
    if (rc)
        return rc;
    src = sqlite3_step(st);
    if (src_out)
        *src_out = src;
    if (src != SQLITE_DONE)
        rc = db_fail(err, c->db, src, what);
    sqlite3_reset(st);
    return write_end(s, c, rc, err);
}

static tq_rc sqlite_meta_set(struct tq_store *store, const char *key, const char *value,
                             struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_META_SET, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, key);
    bind_text(st, 2, value);
    rc = step_write(s, c, st, "write meta", NULL, err);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

/* ---- collections ---------------------------------------------------------------------- */

static tq_rc sqlite_collection_add(struct tq_store *store, const struct tq_collection *coll,
                                   struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_COLL_ADD, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, coll->id);
    bind_text(st, 2, coll->alias);
    bind_text(st, 3, coll->title);
    bind_text(st, 4, coll->description);
    rc = step_write(s, c, st, "add collection", &src, err);
    if (rc && is_duplicate(src))
        rc = tq_err_set(err, TQ_EEXIST, "store: collection id or alias already taken");
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static void collection_from_row(sqlite3_stmt *st, struct tq_collection *out)
{
    const unsigned char *id = sqlite3_column_text(st, 0);

    memset(out, 0, sizeof(*out));
    if (id)
        snprintf(out->id, sizeof(out->id), "%s", (const char *)id);
    out->alias = column_dup(st, 1);
    out->title = column_dup(st, 2);
    out->description = column_dup(st, 3);
}

static tq_rc sqlite_collection_get(struct tq_store *store, const char *id_or_alias,
                                   struct tq_collection *out, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_COLL_GET, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, id_or_alias);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        collection_from_row(st, out);
    else if (src == SQLITE_DONE)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no collection '%.64s'", id_or_alias);
    else
        rc = db_fail(err, c->db, src, "read collection");
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_collection_list(struct tq_store *store, struct tq_collection **out,
                                    size_t *n_out, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct tq_collection *v = NULL;
    size_t n = 0, cap = 0;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_COLL_LIST, &st, err);
    if (rc)
        goto out;
    for (;;) {
        src = sqlite3_step(st);
        if (src != SQLITE_ROW)
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            v = tq_xrealloc(v, cap * sizeof(*v));
        }
        collection_from_row(st, &v[n++]);
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(err, c->db, src, "list collections");
        goto out;
    }
    *out = v;
    *n_out = n;
    v = NULL;
out:
    tq_collection_list_free(v, n);
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

/* ---- objects: put --------------------------------------------------------------------- */

static tq_rc check_object(const struct tq_stix_object *o, size_t i, struct tq_err *err)
{
    if (!o->id[0] || !o->type[0] || !o->spec_version[0] || !o->json)
        return tq_err_set(err, TQ_EINVAL, "store: object %zu lacks id, type, spec_version or json",
                          i);
    if (o->json_len > (size_t)INT32_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "store: object %zu is too large", i);
    if (o->version_us < -1)
        return tq_err_set(err, TQ_EINVAL, "store: object %zu has a negative version", i);
    return TQ_OK;
}

/* Run a fixed statement bound to (collection key, object id) that returns no rows. */
static tq_rc run_simple_bound_obj(struct conn *c, enum stmt_id id, int64_t cid, const char *oid,
                                  struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = stmt_get(c, id, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, cid);
    sqlite3_bind_text(st, 2, oid, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = db_fail(err, c->db, src, "update version flags");
    stmt_done(st);
    return rc;
}

/* Store one object inside the open write transaction; see sqlite_put for the rules. */
static tq_rc put_one(struct conn *c, int64_t cid, const struct tq_stix_object *o, int64_t *last_da,
                     enum tq_put_result *result, int64_t *da_out, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    bool has = false, is_first, is_last;
    int64_t vmin = 0, vmax = 0, da, now;
    tq_rc rc;
    int src;

    rc = stmt_get(c, ST_OBJ_MINMAX, &st, err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, cid);
    sqlite3_bind_text(st, 2, o->id, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        rc = db_fail(err, c->db, src, "read object versions");
        goto out;
    }
    if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
        has = true;
        vmin = sqlite3_column_int64(st, 0);
        vmax = sqlite3_column_int64(st, 1);
    }
    stmt_done(st);
    st = NULL;

    if (has && o->version_us >= vmin && o->version_us <= vmax) {
        rc = stmt_get(c, ST_OBJ_LOOKUP, &st, err);
        if (rc)
            goto out;
        sqlite3_bind_int64(st, 1, cid);
        sqlite3_bind_text(st, 2, o->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, o->version_us);
        src = sqlite3_step(st);
        if (src == SQLITE_ROW) {
            *result = TQ_PUT_PRESENT;
            *da_out = sqlite3_column_int64(st, 0);
            goto out;
        }
        if (src != SQLITE_DONE) {
            rc = db_fail(err, c->db, src, "look up object version");
            goto out;
        }
        stmt_done(st);
        st = NULL;
    }

    is_first = !has || o->version_us < vmin;
    is_last = !has || o->version_us > vmax;
    if (has && is_first) {
        rc = run_simple_bound_obj(c, ST_OBJ_CLEAR_FIRST, cid, o->id, err);
        if (rc)
            goto out;
    }
    if (has && is_last) {
        rc = run_simple_bound_obj(c, ST_OBJ_CLEAR_LAST, cid, o->id, err);
        if (rc)
            goto out;
    }

    now = tq_time_now_us();
    da = now > *last_da ? now : *last_da + 1;

    rc = stmt_get(c, ST_OBJ_INSERT, &st, err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, cid);
    sqlite3_bind_text(st, 2, o->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, o->version_us);
    sqlite3_bind_int64(st, 4, da);
    sqlite3_bind_text(st, 5, o->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, o->spec_version, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, is_first);
    sqlite3_bind_int(st, 8, is_last);
    sqlite3_bind_text(st, 9, o->json, (int)o->json_len, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src != SQLITE_DONE) {
        rc = db_fail(err, c->db, src, "insert object");
        goto out;
    }
    *last_da = da;
    *result = TQ_PUT_STORED;
    *da_out = da;
out:
    stmt_done(st);
    return rc;
}

/*
 * Store the objects in one write transaction. For each one: an (id, version) already in the
 * collection is reported PRESENT with its existing date_added and nothing changes; otherwise
 * the version is inserted with date_added = max(now, last_date_added + 1), and the first/last
 * flags of the object's versions are moved when the new version is older than the oldest or
 * newer than the newest. The collection's last_date_added is written back before COMMIT.
 */
static tq_rc sqlite_put(struct tq_store *store, const char *collection_id,
                        const struct tq_stix_object *objs, size_t n, enum tq_put_result *results,
                        int64_t *date_added_us, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    int64_t cid = 0, last_da = 0, last_da_before, da = 0;
    enum tq_put_result res = TQ_PUT_STORED;
    size_t i;
    tq_rc rc;
    int src;

    for (i = 0; i < n; i++) {
        rc = check_object(&objs[i], i, err);
        if (rc)
            return rc;
    }
    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = write_begin(s, c, err);
    if (rc)
        goto out;
    rc = collection_resolve(c, collection_id, &cid, &last_da, err);
    last_da_before = last_da;
    for (i = 0; rc == TQ_OK && i < n; i++) {
        rc = put_one(c, cid, &objs[i], &last_da, &res, &da, err);
        if (rc)
            break;
        if (results)
            results[i] = res;
        if (date_added_us)
            date_added_us[i] = da;
    }
    if (rc == TQ_OK && last_da != last_da_before) {
        rc = stmt_get(c, ST_COLL_SET_LAST, &st, err);
        if (rc == TQ_OK) {
            sqlite3_bind_int64(st, 1, cid);
            sqlite3_bind_int64(st, 2, last_da);
            src = sqlite3_step(st);
            if (src != SQLITE_DONE)
                rc = db_fail(err, c->db, src, "update last date_added");
            stmt_done(st);
        }
    }
    rc = write_end(s, c, rc, err);
out:
    conn_put(s, c);
    return rc;
}

/* ---- objects: dynamic query and delete ------------------------------------------------ */

/*
 * Values to bind, in placeholder order, collected while the SQL text is built. The capacity
 * covers every filter at its TQ_QUERY_MAX_LIST limit (checked by store.c) plus the scalars.
 */
#define MAX_BINDS (4 * TQ_QUERY_MAX_LIST + 8)

struct bind {
    bool is_text;
    int64_t i;
    struct tq_str s;
};

struct sql_build {
    struct tq_buf sql;
    struct bind binds[MAX_BINDS];
    size_t n_binds;
    tq_rc rc; /* first append failure; later appends are skipped */
};

static void sb_add(struct sql_build *b, const char *text)
{
    if (b->rc == TQ_OK)
        b->rc = tq_buf_append_c(&b->sql, text);
}

static void sb_int(struct sql_build *b, const char *text, int64_t v)
{
    sb_add(b, text);
    if (b->n_binds < MAX_BINDS) {
        b->binds[b->n_binds].is_text = false;
        b->binds[b->n_binds].i = v;
    }
    b->n_binds++;
}

/* " AND column IN (?, ?, ...)" for a list of strings. */
static void sb_str_list(struct sql_build *b, const char *column, const struct tq_str *v, size_t n)
{
    size_t i;

    if (n == 0)
        return;
    sb_add(b, " AND ");
    sb_add(b, column);
    sb_add(b, " IN (");
    for (i = 0; i < n; i++) {
        sb_add(b, i ? ", ?" : "?");
        if (b->n_binds < MAX_BINDS) {
            b->binds[b->n_binds].is_text = true;
            b->binds[b->n_binds].s = v[i];
        }
        b->n_binds++;
    }
    sb_add(b, ")");
}

/*
 * The match[version] condition. flags == 0 takes the caller's default (LAST for reads, ALL for
 * deletes); ALL overrides everything; the other selectors are OR-ed.
 */
static void sb_versions(struct sql_build *b, const struct tq_store_query *q, unsigned dflt)
{
    unsigned flags = q->version_flags ? q->version_flags : dflt;
    const char *sep = "";
    size_t i;

    if (flags & TQ_MATCH_ALL)
        return;
    sb_add(b, " AND (");
    if (flags & TQ_MATCH_LAST) {
        sb_add(b, "is_last");
        sep = " OR ";
    }
    if (flags & TQ_MATCH_FIRST) {
        sb_add(b, sep);
        sb_add(b, "is_first");
        sep = " OR ";
    }
    if ((flags & TQ_MATCH_TIMES) && q->n_versions) {
        sb_add(b, sep);
        sb_add(b, "version_us IN (");
        for (i = 0; i < q->n_versions; i++)
            sb_int(b, i ? ", ?" : "?", q->versions[i]);
        sb_add(b, ")");
        sep = " OR ";
    }
    if (!*sep)
        sb_add(b, "0"); /* TIMES with no time: store.c refuses it, but never match all */
    sb_add(b, ")");
}

/* Prepare (or fetch from the cache) the built statement and bind its values. */
static tq_rc sb_prepare(struct conn *c, struct sql_build *b, sqlite3_stmt **out, struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    tq_rc rc;

    if (b->rc)
        return tq_err_set(err, b->rc, "store: query text too long");
    if (b->n_binds > MAX_BINDS)
        return tq_err_set(err, TQ_EINVAL, "store: too many query values");
    rc = dyn_get(c, b->sql.ptr, &st, err);
    if (rc)
        return rc;
    for (i = 0; i < b->n_binds; i++) {
        if (b->binds[i].is_text)
            bind_str(st, (int)i + 1, b->binds[i].s);
        else
            sqlite3_bind_int64(st, (int)i + 1, b->binds[i].i);
    }
    *out = st;
    return TQ_OK;
}

#define SQL_TEXT_MAX (64 * 1024)
#define QUERY_LIMIT_MAX ((size_t)1 << 40)

static tq_rc sqlite_query(struct tq_store *store, const struct tq_store_query *q, bool with_json,
                          tq_store_row_cb cb, void *ud, struct tq_store_page_info *info,
                          struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct sql_build *b = tq_xcalloc(1, sizeof(*b));
    struct tq_store_page_info pi = {.first_date_added_us = -1, .last_date_added_us = -1};
    struct tq_store_row row;
    size_t limit = q->limit < QUERY_LIMIT_MAX ? q->limit : QUERY_LIMIT_MAX;
    bool has_lower = false, by_id;
    int64_t cid = 0, lower = 0;
    tq_rc rc;
    int src;

    pi.next.date_added_us = -1;
    tq_buf_init(&b->sql, SQL_TEXT_MAX);
    rc = conn_get(s, &c, err);
    if (rc)
        goto out;
    rc = collection_resolve(c, q->collection_id, &cid, NULL, err);
    if (rc)
        goto out;

    /*
     * date_added is unique within a collection (UNIQUE (collection, date_added_us)), so the
     * (date_added, id) order is the date_added order and "strictly after the cursor" is
     * "date_added greater than the cursor's"; added_after is the same kind of bound.
     */
    if (q->has_added_after) {
        has_lower = true;
        lower = q->added_after_us;
    }
    if (q->has_cursor && (!has_lower || q->cursor.date_added_us > lower)) {
        has_lower = true;
        lower = q->cursor.date_added_us;
    }

    sb_add(b, with_json ? "SELECT id, date_added_us, version_us, spec_version, json"
                        : "SELECT id, date_added_us, version_us, spec_version");
    sb_int(b, " FROM objects WHERE collection = ?", cid);
    if (q->object_id) {
        sb_add(b, " AND id = ?");
        b->binds[b->n_binds].is_text = true;
        b->binds[b->n_binds].s = tq_str_c(q->object_id);
        b->n_binds++;
    }
    /*
     * With an id restriction the (collection, id, version_us) key finds a handful of rows and
     * sorting them is cheap; without statistics the planner would rather walk the whole
     * collection in date_added order to avoid that sort, or pick the type index. The unary "+"
     * takes date_added_us and type out of index selection for those queries only (plans in
     * docs/internals/store.md).
     */
    by_id = q->object_id || q->n_ids;
    if (has_lower)
        sb_int(b, by_id ? " AND +date_added_us > ?" : " AND date_added_us > ?", lower);
    sb_str_list(b, "id", q->ids, q->n_ids);
    sb_str_list(b, by_id ? "+type" : "type", q->types, q->n_types);
    sb_str_list(b, "spec_version", q->spec_versions, q->n_spec_versions);
    sb_versions(b, q, TQ_MATCH_LAST);
    /* One row beyond the page tells whether more remain, without a COUNT. */
    sb_int(b, by_id ? " ORDER BY +date_added_us LIMIT ?" : " ORDER BY date_added_us LIMIT ?",
           (int64_t)limit + 1);

    rc = sb_prepare(c, b, &st, err);
    if (rc)
        goto out;
    for (;;) {
        src = sqlite3_step(st);
        if (src == SQLITE_DONE)
            break;
        if (src != SQLITE_ROW) {
            rc = db_fail(err, c->db, src, "query objects");
            goto out;
        }
        if (pi.n == limit) {
            pi.more = true;
            break;
        }
        /* Every pointer borrows SQLite's column memory, valid until the next step. */
        row.id = (const char *)sqlite3_column_text(st, 0);
        row.date_added_us = sqlite3_column_int64(st, 1);
        row.version_us = sqlite3_column_int64(st, 2);
        row.spec_version = (const char *)sqlite3_column_text(st, 3);
        row.json = NULL;
        row.json_len = 0;
        if (with_json) {
            row.json = (const char *)sqlite3_column_text(st, 4);
            row.json_len = (size_t)sqlite3_column_bytes(st, 4);
        }
        if (!row.id || !row.spec_version || (with_json && !row.json)) {
            rc = db_fail(err, c->db, SQLITE_NOMEM, "read object row");
            goto out;
        }
        if (pi.n == 0)
            pi.first_date_added_us = row.date_added_us;
        pi.last_date_added_us = row.date_added_us;
        pi.next.date_added_us = row.date_added_us;
        snprintf(pi.next.id, sizeof(pi.next.id), "%s", row.id);
        pi.n++;
        rc = cb(ud, &row);
        if (rc)
            goto out;
    }
    *info = pi;
out:
    stmt_done(st);
    conn_put(s, c);
    tq_buf_cleanup(&b->sql);
    tq_free(b);
    return rc;
}

static tq_rc sqlite_delete(struct tq_store *store, const struct tq_store_query *q, size_t *deleted,
                           struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct sql_build *b = tq_xcalloc(1, sizeof(*b));
    int64_t cid = 0;
    size_t n = 0;
    tq_rc rc;
    int src;

    tq_buf_init(&b->sql, SQL_TEXT_MAX);
    rc = conn_get(s, &c, err);
    if (rc)
        goto out;
    rc = write_begin(s, c, err);
    if (rc)
        goto out;
    rc = collection_resolve(c, q->collection_id, &cid, NULL, err);
    if (rc == TQ_OK) {
        sb_int(b, "DELETE FROM objects WHERE collection = ?", cid);
        sb_add(b, " AND id = ?");
        b->binds[b->n_binds].is_text = true;
        b->binds[b->n_binds].s = tq_str_c(q->object_id);
        b->n_binds++;
        sb_str_list(b, "spec_version", q->spec_versions, q->n_spec_versions);
        sb_versions(b, q, TQ_MATCH_ALL);
        rc = sb_prepare(c, b, &st, err);
    }
    if (rc == TQ_OK) {
        src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = db_fail(err, c->db, src, "delete object versions");
        else
            n = (size_t)sqlite3_changes(c->db);
        stmt_done(st);
        st = NULL;
    }
    if (rc == TQ_OK && n == 0)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no matching version of '%.*s'", TQ_STIX_ID_MAX,
                        q->object_id);
    /* The survivors' oldest and newest may have changed. */
    if (rc == TQ_OK)
        rc = run_simple_bound_obj(c, ST_OBJ_REFLAG, cid, q->object_id, err);
    rc = write_end(s, c, rc, err);
    if (rc == TQ_OK)
        *deleted = n;
out:
    conn_put(s, c);
    tq_buf_cleanup(&b->sql);
    tq_free(b);
    return rc;
}

static tq_rc sqlite_count(struct tq_store *store, const char *collection_id, uint64_t *count,
                          struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    int64_t cid = 0;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    if (collection_id) {
        rc = collection_resolve(c, collection_id, &cid, NULL, err);
        if (rc)
            goto out;
    }
    rc = stmt_get(c, collection_id ? ST_COUNT_COLL : ST_COUNT_ALL, &st, err);
    if (rc)
        goto out;
    if (collection_id)
        sqlite3_bind_int64(st, 1, cid);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *count = (uint64_t)sqlite3_column_int64(st, 0);
    else
        rc = db_fail(err, c->db, src, "count objects");
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

/* ---- status resources ----------------------------------------------------------------- */

static tq_rc sqlite_status_put(struct tq_store *store, const char *status_id, const char *owner,
                               int64_t created_us, const char *json, size_t json_len,
                               struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;

    if (json_len > (size_t)INT32_MAX)
        return tq_err_set(err, TQ_ETOOBIG, "store: status resource too large");
    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_STATUS_PUT, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, status_id);
    bind_text(st, 2, owner);
    sqlite3_bind_int64(st, 3, created_us);
    sqlite3_bind_text(st, 4, json, (int)json_len, SQLITE_STATIC);
    rc = step_write(s, c, st, "write status", NULL, err);
    if (rc == TQ_OK && sqlite3_changes(c->db) == 0) /* the id exists under another owner */
        rc = tq_err_set(err, TQ_EEXIST, "store: status id already in use");
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_status_get(struct tq_store *store, const char *status_id, const char *owner,
                               char **json_out, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    const unsigned char *row_owner;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_STATUS_GET, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, status_id);
    src = sqlite3_step(st);
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = db_fail(err, c->db, src, "read status");
        goto out;
    }
    row_owner = src == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    /* Another user's status answers exactly like a missing one. */
    if (!row_owner || strcmp((const char *)row_owner, owner) != 0) {
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no status '%.64s'", status_id);
        goto out;
    }
    *json_out = column_dup(st, 1);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_status_purge(struct tq_store *store, int64_t older_than_us, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_STATUS_PURGE, &st, err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, older_than_us);
    rc = step_write(s, c, st, "purge status", NULL, err);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

/* ---- users, tokens and permissions ---------------------------------------------------- */

static tq_rc sqlite_user_put(struct tq_store *store, const char *name, const char *pwhash,
                             struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_USER_PUT, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, name);
    bind_text(st, 2, pwhash);
    rc = step_write(s, c, st, "write user", NULL, err);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

/* Run a one-column lookup of a fixed statement bound to one text value. */
static tq_rc lookup_text(struct sqlite_store *s, enum stmt_id id, const void *key, int key_len,
                         bool key_blob, char **out, const char *what, struct tq_err *err)
{
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, id, &st, err);
    if (rc)
        goto out;
    if (key_blob)
        sqlite3_bind_blob(st, 1, key, key_len, SQLITE_STATIC);
    else
        sqlite3_bind_text(st, 1, key, key_len, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = column_dup(st, 0);
    else if (src == SQLITE_DONE)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no such %s", what);
    else
        rc = db_fail(err, c->db, src, what);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_user_get(struct tq_store *store, const char *name, char **pwhash_out,
                             struct tq_err *err)
{
    return lookup_text(from_base(store), ST_USER_GET, name, -1, false, pwhash_out, "user", err);
}

static tq_rc sqlite_user_delete(struct tq_store *store, const char *name, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_USER_DELETE, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, name);
    /* Tokens and permissions go with the user (ON DELETE CASCADE). */
    rc = step_write(s, c, st, "delete user", NULL, err);
    if (rc == TQ_OK && sqlite3_changes(c->db) == 0)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no user '%.64s'", name);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_user_list(struct tq_store *store, char ***names_out, size_t *n_out,
                              struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char **v = NULL;
    size_t n = 0, cap = 0, i;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_USER_LIST, &st, err);
    if (rc)
        goto out;
    for (;;) {
        src = sqlite3_step(st);
        if (src != SQLITE_ROW)
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            v = tq_xrealloc(v, cap * sizeof(*v));
        }
        v[n++] = column_dup(st, 0);
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(err, c->db, src, "list users");
        goto out;
    }
    *names_out = v;
    *n_out = n;
    v = NULL;
out:
    if (v) {
        for (i = 0; i < n; i++)
            tq_free(v[i]);
        tq_free(v);
    }
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_token_add(struct tq_store *store, const char *user, const uint8_t hash[32],
                              const char *label, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = stmt_get(c, ST_TOKEN_ADD, &st, err);
    if (rc)
        goto out;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    bind_text(st, 2, user);
    bind_text(st, 3, label);
    sqlite3_bind_int64(st, 4, tq_time_now_us());
    rc = step_write(s, c, st, "add token", &src, err);
    if (rc && src == SQLITE_CONSTRAINT_FOREIGNKEY)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no user '%.64s'", user);
    else if (rc && is_duplicate(src))
        rc = tq_err_set(err, TQ_EEXIST, "store: token already registered");
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_token_lookup(struct tq_store *store, const uint8_t hash[32], char **user_out,
                                 struct tq_err *err)
{
    return lookup_text(from_base(store), ST_TOKEN_LOOKUP, hash, 32, true, user_out, "token", err);
}

/*
 * Permissions are keyed by the collection's UUID, so a grant made with an alias and a check
 * made with the id (or the reverse) meet. "*" stays as it is.
 */
static tq_rc perm_collection_key(struct conn *c, const char *collection, bool must_exist,
                                 char key[37], struct tq_err *err)
{
    sqlite3_stmt *st = NULL;
    const unsigned char *id;
    tq_rc rc;
    int src;

    if (strcmp(collection, "*") == 0) {
        snprintf(key, 37, "*");
        return TQ_OK;
    }
    rc = stmt_get(c, ST_COLL_GET, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, collection);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        id = sqlite3_column_text(st, 0);
        snprintf(key, 37, "%s", id ? (const char *)id : "");
    } else if (src == SQLITE_DONE) {
        if (must_exist)
            rc = tq_err_set(err, TQ_ENOTFOUND, "store: no collection '%.64s'", collection);
        else
            snprintf(key, 37, "%.36s", collection);
    } else {
        rc = db_fail(err, c->db, src, "resolve collection");
    }
    stmt_done(st);
    return rc;
}

static tq_rc sqlite_perm_set(struct tq_store *store, const char *user, const char *collection_id,
                             bool can_read, bool can_write, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char key[37];
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = perm_collection_key(c, collection_id, true, key, err);
    if (rc)
        goto out;
    rc = stmt_get(c, ST_PERM_SET, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, user);
    bind_text(st, 2, key);
    sqlite3_bind_int(st, 3, can_read);
    sqlite3_bind_int(st, 4, can_write);
    rc = step_write(s, c, st, "set permission", &src, err);
    if (rc && src == SQLITE_CONSTRAINT_FOREIGNKEY)
        rc = tq_err_set(err, TQ_ENOTFOUND, "store: no user '%.64s'", user);
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static tq_rc sqlite_perm_get(struct tq_store *store, const char *user, const char *collection_id,
                             bool *can_read, bool *can_write, struct tq_err *err)
{
    struct sqlite_store *s = from_base(store);
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char key[37];
    tq_rc rc;
    int src;

    rc = conn_get(s, &c, err);
    if (rc)
        return rc;
    rc = perm_collection_key(c, collection_id, false, key, err);
    if (rc)
        goto out;
    rc = stmt_get(c, ST_PERM_GET, &st, err);
    if (rc)
        goto out;
    bind_text(st, 1, user);
    bind_text(st, 2, key);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        /* max() over no rows is NULL, which reads as 0: unknown pairs are false/false. */
        *can_read = sqlite3_column_int(st, 0) != 0;
        *can_write = sqlite3_column_int(st, 1) != 0;
    } else {
        rc = db_fail(err, c->db, src, "read permission");
    }
out:
    stmt_done(st);
    conn_put(s, c);
    return rc;
}

static const struct tq_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .meta_get = sqlite_meta_get,
    .meta_set = sqlite_meta_set,
    .collection_add = sqlite_collection_add,
    .collection_get = sqlite_collection_get,
    .collection_list = sqlite_collection_list,
    .put = sqlite_put,
    .query = sqlite_query,
    .del = sqlite_delete,
    .count = sqlite_count,
    .status_put = sqlite_status_put,
    .status_get = sqlite_status_get,
    .status_purge = sqlite_status_purge,
    .user_put = sqlite_user_put,
    .user_get = sqlite_user_get,
    .user_delete = sqlite_user_delete,
    .user_list = sqlite_user_list,
    .token_add = sqlite_token_add,
    .token_lookup = sqlite_token_lookup,
    .perm_set = sqlite_perm_set,
    .perm_get = sqlite_perm_get,
};
