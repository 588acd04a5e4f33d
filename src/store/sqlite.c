/* SPDX-License-Identifier: Apache-2.0
 *
 * store/sqlite.c - the SQLite driver of the store engine (embedded default).
 *
 * One database file in WAL mode with synchronous=FULL: a write returns only after its COMMIT
 * reached the disk, so an acknowledged object survives kill -9 and power loss. Each connection
 * is used by one thread at a time (SQLITE_OPEN_NOMUTEX); the database write lock is BEGIN
 * IMMEDIATE, which holds every collection. This file holds primitives only (store/driver.h):
 * the rules are the engine's, the SQL text is in sqlite_sql.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/driver.h"
#include "store/store.h"

#define BUSY_TIMEOUT_MS 10000

struct sqlite_db {
    struct tq__db base; /* first: the engine holds &base */
    sqlite3 *db;
    sqlite3_stmt *begin_write; /* BEGIN IMMEDIATE, prepared on first use */
    sqlite3_stmt *commit;
    int last_code;    /* the native code of the last failure */
    const char *path; /* the engine's target path, for the signer lock file */
    int lock_fd;      /* the signer lock file, -1 until first used */
};

struct sqlite_stmt {
    struct tq__stmt base; /* first: the engine holds &base */
    sqlite3_stmt *st;
    struct sqlite_db *db;
};

static struct sqlite_db *db_of(struct tq__db *db)
{
    return (struct sqlite_db *)db;
}

static sqlite3_stmt *st_of(struct tq__stmt *st)
{
    return ((struct sqlite_stmt *)st)->st;
}

/* Classify an SQLite result code (extended codes are on) for the engine. */
static enum tq__db_rc classify(int src)
{
    switch (src) {
    case SQLITE_OK:
        return TQ__DB_OK;
    case SQLITE_ROW:
        return TQ__DB_ROW;
    case SQLITE_DONE:
        return TQ__DB_DONE;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return TQ__DB_DUPLICATE;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return TQ__DB_FOREIGN_KEY;
    case SQLITE_CONSTRAINT_TRIGGER:
        return TQ__DB_REFUSED;
    case SQLITE_CONSTRAINT:
        return TQ__DB_CONSTRAINT;
    default:
        break;
    }
    switch (src & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return TQ__DB_BUSY;
    case SQLITE_NOMEM:
        return TQ__DB_NOMEM;
    case SQLITE_FULL:
        return TQ__DB_FULL;
    default:
        return TQ__DB_ERROR;
    }
}

/* Classify src and remember it as the last failure when it is one. */
static enum tq__db_rc result(struct sqlite_db *d, int src)
{
    enum tq__db_rc r = classify(src);

    if (r != TQ__DB_OK && r != TQ__DB_ROW && r != TQ__DB_DONE)
        d->last_code = src;
    return r;
}

static int drv_last_error(struct tq__db *db, const char **msg)
{
    struct sqlite_db *d = db_of(db);

    *msg = d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(d->last_code);
    return d->last_code;
}

static enum tq__db_rc drv_exec(struct tq__db *db, const char *sql)
{
    return result(db_of(db), sqlite3_exec(db_of(db)->db, sql, NULL, NULL, NULL));
}

/* ---- open and close ------------------------------------------------------------------- */

static void drv_close(struct tq__db *db)
{
    struct sqlite_db *d = db_of(db);

    if (!d)
        return;
    sqlite3_finalize(d->begin_write);
    sqlite3_finalize(d->commit);
    sqlite3_close(d->db);
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    tq_free(d);
}

/*
 * Open path as an immutable database: no locks and no -shm file, which SQLite cannot create on
 * a full disk. Nothing can write to the store then anyway, and a cleanly closed WAL store has
 * everything in the main file.
 */
static int open_immutable(const char *path, sqlite3 **db, int flags)
{
    struct tq_buf uri;
    int src;

    tq_buf_init(&uri, 8192);
    if (tq_buf_append_c(&uri, "file:")) {
        tq_buf_cleanup(&uri);
        return SQLITE_CANTOPEN;
    }
    for (const char *p = path; *p; p++) {
        tq_rc rc = *p == '%' || *p == '?' || *p == '#'
                       ? tq_buf_printf(&uri, "%%%02X", (unsigned)(unsigned char)*p)
                       : tq_buf_append(&uri, p, 1);

        if (rc) {
            tq_buf_cleanup(&uri);
            return SQLITE_CANTOPEN;
        }
    }
    src = tq_buf_append_c(&uri, "?immutable=1")
              ? SQLITE_CANTOPEN
              : sqlite3_open_v2(uri.ptr, db, flags | SQLITE_OPEN_URI, NULL);
    tq_buf_cleanup(&uri);
    return src;
}

/* Run SQL text without rows on a connection being opened; on failure the detail is in err. */
static tq_rc open_exec(struct sqlite_db *d, const char *sql, const char *what, struct tq_err *err)
{
    int src = drv_exec(&d->base, sql);

    if (src != TQ__DB_OK)
        return tq__store_fail(err, &d->base, src, what);
    return TQ_OK;
}

static tq_rc drv_open(const struct tq__store_target *t, struct tq__db **out, struct tq_err *err)
{
    struct sqlite_db *d = tq_xcalloc(1, sizeof(*d));
    int flags = SQLITE_OPEN_NOMUTEX; /* a connection is only ever used by one thread at a time */
    int src;
    tq_rc rc;

    d->base.drv = &tq__store_sqlite;
    d->path = t->path;
    d->lock_fd = -1;
    flags |= t->read_only    ? SQLITE_OPEN_READONLY
             : t->must_exist ? SQLITE_OPEN_READWRITE
                             : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (t->disk_full)
        src = open_immutable(t->path, &d->db, flags);
    else
        src = sqlite3_open_v2(t->path, &d->db, flags, NULL);
    if (src != SQLITE_OK) {
        rc = tq__store_fail(err, &d->base, result(d, src), "open");
        goto out;
    }
    sqlite3_extended_result_codes(d->db, 1);
    sqlite3_busy_timeout(d->db, BUSY_TIMEOUT_MS);
    rc = open_exec(d,
                   "PRAGMA foreign_keys = ON;"
                   "PRAGMA synchronous = FULL;"
                   "PRAGMA temp_store = MEMORY;"
                   "PRAGMA cache_size = -16384;"
                   "PRAGMA mmap_size = 1073741824;",
                   "configure connection", err);
    if (rc)
        goto out;
    if (!t->read_only) {
        /* Persistent in the file once set; repeating it costs one lock round trip. */
        rc = open_exec(d, "PRAGMA journal_mode = WAL;", "enable WAL", err);
        if (rc == TQ_OK)
            rc = open_exec(d, tq__store_sqlite.session_sql, "create temporary tables", err);
        if (rc)
            goto out;
    }
    *out = &d->base;
    d = NULL;
out:
    drv_close(d ? &d->base : NULL);
    return rc;
}

/*
 * Before SQLite opens the database: refuse a missing or empty file when the store must exist
 * (an empty file would otherwise become a fresh, empty node), create a missing one 0600 (SQLite
 * gives its -wal and -shm files the database file's mode), and tighten the files of an
 * existing one to 0600.
 */
static tq_rc files_prepare(const struct tq__store_target *s, struct tq_err *err)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char path[4096];
    struct stat st;
    int fd;

    if (stat(s->path, &st) != 0) {
        if (errno != ENOENT)
            return tq_err_set(err, TQ_EIO, "sqlite: cannot read %s: %s", s->path, strerror(errno));
        if (s->must_exist || s->read_only)
            return tq_err_set(err, TQ_ECONFIG,
                              "the store %s is missing (only 'tansiq init' makes one)", s->path);
        fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            return tq_err_set(err, TQ_EIO, "sqlite: cannot create %s: %s", s->path,
                              strerror(errno));
        if (fd >= 0)
            close(fd);
        return TQ_OK;
    }
    if (st.st_size == 0 && s->must_exist)
        return tq_err_set(err, TQ_ECONFIG,
                          "the store %s is empty: restore it from a backup (only 'tansiq init' "
                          "makes a new one)",
                          s->path);
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", s->path, suffix[i]);
        if (stat(path, &st) == 0 && (st.st_mode & 077) && !s->read_only) {
            if (chmod(path, st.st_mode & 0700) != 0)
                return tq_err_set(err, TQ_EIO, "sqlite: cannot restrict %s: %s", path,
                                  strerror(errno));
            tq_log(TQ_LOG_WARN, "store: %s was readable by others; now mode %o", path,
                   (unsigned)(st.st_mode & 0700));
        }
    }
    return TQ_OK;
}

static tq_rc drv_target_prepare(const struct tq__store_target *t, struct tq_err *err)
{
    return files_prepare(t, err);
}

/* Whether the file system of the store has no room left for SQLite's side files (-wal, -shm). */
static bool drv_target_full(const struct tq__store_target *t)
{
    struct statvfs fs;

    return statvfs(t->path, &fs) == 0 && (uint64_t)fs.f_bavail * fs.f_frsize < ((uint64_t)1 << 20);
}

/* ---- transactions --------------------------------------------------------------------- */

/* Step a statement of the connection itself, prepared on first use from sql. */
static enum tq__db_rc run_own(struct sqlite_db *d, sqlite3_stmt **st, const char *sql)
{
    int src;

    if (!*st) {
        src = sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
        if (src != SQLITE_OK)
            return result(d, src);
    }
    src = sqlite3_step(*st);
    sqlite3_reset(*st);
    return src == SQLITE_DONE ? TQ__DB_OK : result(d, src);
}

/*
 * A lock every process on the database sees: flock on "<database>-lock<key>" beside it (an
 * open file description of this connection's own, so two stores of one process exclude each
 * other too), released by the kernel when the process dies. Waits like the busy timeout.
 */
static enum tq__db_rc drv_session_lock(struct tq__db *db, int key, bool take)
{
    struct sqlite_db *d = db_of(db);
    char path[4096];
    int waited_ms = 0;

    if (!take) {
        if (d->lock_fd >= 0)
            flock(d->lock_fd, LOCK_UN);
        return TQ__DB_OK;
    }
    if (d->lock_fd < 0) {
        snprintf(path, sizeof(path), "%s-lock%d", d->path, key);
        d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (d->lock_fd < 0) {
            d->last_code = SQLITE_CANTOPEN;
            return TQ__DB_ERROR;
        }
    }
    while (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if ((errno != EWOULDBLOCK && errno != EINTR) || waited_ms >= BUSY_TIMEOUT_MS) {
            d->last_code = SQLITE_BUSY;
            return TQ__DB_BUSY;
        }
        usleep(5000);
        waited_ms += 5;
    }
    return TQ__DB_OK;
}

/* BEGIN IMMEDIATE takes the database's write lock, which covers every collection. */
static enum tq__db_rc drv_begin_write(struct tq__db *db)
{
    return run_own(db_of(db), &db_of(db)->begin_write, tq__store_sqlite_sql[ST_BEGIN_IMMEDIATE]);
}

static enum tq__db_rc drv_commit(struct tq__db *db)
{
    return run_own(db_of(db), &db_of(db)->commit, tq__store_sqlite_sql[ST_COMMIT]);
}

static void drv_rollback(struct tq__db *db)
{
    if (!sqlite3_get_autocommit(db_of(db)->db))
        sqlite3_exec(db_of(db)->db, "ROLLBACK", NULL, NULL, NULL);
}

static enum tq__db_rc drv_schema_version(struct tq__db *db, int *version)
{
    struct sqlite_db *d = db_of(db);
    sqlite3_stmt *st = NULL;
    int src;

    src = sqlite3_prepare_v2(d->db, "PRAGMA user_version", -1, &st, NULL);
    if (src != SQLITE_OK)
        return result(d, src);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return src == SQLITE_ROW ? TQ__DB_OK : result(d, src);
}

static enum tq__db_rc drv_schema_version_set(struct tq__db *db, int version)
{
    char pragma[64];

    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
    return drv_exec(db, pragma);
}

/* ---- statements ----------------------------------------------------------------------- */

static enum tq__db_rc drv_prepare(struct tq__db *db, const char *sql, struct tq__stmt **out)
{
    struct sqlite_db *d = db_of(db);
    struct sqlite_stmt *s;
    sqlite3_stmt *st = NULL;
    int src;

    src = sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (src != SQLITE_OK)
        return result(d, src);
    s = tq_xcalloc(1, sizeof(*s));
    s->base.drv = &tq__store_sqlite;
    s->st = st;
    s->db = d;
    *out = &s->base;
    return TQ__DB_OK;
}

static void drv_finalize(struct tq__stmt *st)
{
    if (!st)
        return;
    sqlite3_finalize(st_of(st));
    tq_free(st);
}

static void drv_reset(struct tq__stmt *st)
{
    sqlite3_reset(st_of(st));
}

static void drv_clear_bindings(struct tq__stmt *st)
{
    sqlite3_clear_bindings(st_of(st));
}

static void drv_bind_int64(struct tq__stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(st_of(st), i, v);
}

static void drv_bind_text(struct tq__stmt *st, int i, const char *s, int len)
{
    sqlite3_bind_text(st_of(st), i, s, len, SQLITE_STATIC);
}

static void drv_bind_blob(struct tq__stmt *st, int i, const void *p, int len)
{
    sqlite3_bind_blob(st_of(st), i, p, len, SQLITE_STATIC);
}

static void drv_bind_null(struct tq__stmt *st, int i)
{
    sqlite3_bind_null(st_of(st), i);
}

static enum tq__db_rc drv_step(struct tq__stmt *st)
{
    return result(((struct sqlite_stmt *)st)->db, sqlite3_step(st_of(st)));
}

static int64_t drv_col_int64(struct tq__stmt *st, int i)
{
    return sqlite3_column_int64(st_of(st), i);
}

static const char *drv_col_text(struct tq__stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st_of(st), i);
}

static const void *drv_col_blob(struct tq__stmt *st, int i)
{
    return sqlite3_column_blob(st_of(st), i);
}

static int drv_col_bytes(struct tq__stmt *st, int i)
{
    return sqlite3_column_bytes(st_of(st), i);
}

static bool drv_col_is_null(struct tq__stmt *st, int i)
{
    return sqlite3_column_type(st_of(st), i) == SQLITE_NULL;
}

static int64_t drv_changes(struct tq__db *db)
{
    return sqlite3_changes(db_of(db)->db);
}

static int64_t drv_last_insert_id(struct tq__db *db)
{
    return sqlite3_last_insert_rowid(db_of(db)->db);
}

const struct tq__store_driver tq__store_sqlite = {
    .name = "sqlite",
    .sql = tq__store_sqlite_sql,
    .migrations = tq__store_sqlite_migrations,
    .dialect = &tq__store_sqlite_dialect,
    .session_sql = tq__store_sqlite_session_sql,
    .target_prepare = drv_target_prepare,
    .target_full = drv_target_full,
    .open = drv_open,
    .close = drv_close,
    .session_lock = drv_session_lock,
    .begin_write = drv_begin_write,
    .commit = drv_commit,
    .rollback = drv_rollback,
    .exec = drv_exec,
    .schema_version = drv_schema_version,
    .schema_version_set = drv_schema_version_set,
    .prepare = drv_prepare,
    .finalize = drv_finalize,
    .reset = drv_reset,
    .clear_bindings = drv_clear_bindings,
    .bind_int64 = drv_bind_int64,
    .bind_text = drv_bind_text,
    .bind_blob = drv_bind_blob,
    .bind_null = drv_bind_null,
    .step = drv_step,
    .col_int64 = drv_col_int64,
    .col_text = drv_col_text,
    .col_blob = drv_col_blob,
    .col_bytes = drv_col_bytes,
    .col_is_null = drv_col_is_null,
    .changes = drv_changes,
    .last_insert_id = drv_last_insert_id,
    .last_error = drv_last_error,
    /* A copied INTEGER PRIMARY KEY is the rowid itself: the next one follows it already. */
    .copy_finish = NULL,
};

tq_rc tq__store_sqlite_open(const char *path, const struct tq_store_options *opt,
                            struct tq_store **out, struct tq_err *err)
{
    if (!sqlite3_threadsafe())
        return tq_err_set(err, TQ_ENOTSUP, "sqlite: library built without thread support");
    return tq__store_engine_open(&tq__store_sqlite, path, opt, out, err);
}
