/* SPDX-License-Identifier: Apache-2.0
 *
 * store/driver.h - what a SQL driver supplies to the store engine.
 *
 * The engine (engine.c and one file per area: meta.c, objects.c, access.c, releases.c,
 * audit.c, status.c) holds every rule of the store once: date_added under the write lock, the
 * first/last flags, release rows, audit leaves, keyset cursors, the mapping of database
 * failures to tq_rc. A driver holds none: it opens connections, runs statements and supplies
 * the SQL text of each statement id, its schema and migrations, and the few fragments where
 * dialects differ (struct tq__store_dialect). Modelled on curl's vtls (policy once in vtls.c,
 * primitives in each backend) and redis's ae (one small API, one file per implementation).
 *
 * A driver's connection and statement structs start with struct tq__db / struct tq__stmt, so
 * the engine reaches the driver's functions from any handle. Every function here is called
 * with a handle used by one thread at a time.
 */
#ifndef TQ_STORE_DRIVER_H
#define TQ_STORE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tansiq/errors.h"
#include "tansiq/store.h"

/*
 * What a primitive reports, classified by the driver from its native code (the native code and
 * message stay on the connection for tq__store_fail's detail text).
 */
enum tq__db_rc {
    TQ__DB_OK = 0,
    TQ__DB_ROW,         /* step: a row is ready */
    TQ__DB_DONE,        /* step: the statement has finished */
    TQ__DB_BUSY,        /* lock or serialization timeout */
    TQ__DB_NOMEM,       /* out of memory */
    TQ__DB_FULL,        /* the disk is full */
    TQ__DB_DUPLICATE,   /* unique or primary key violation */
    TQ__DB_FOREIGN_KEY, /* foreign key violation */
    TQ__DB_REFUSED,     /* refused by a trigger */
    TQ__DB_CONSTRAINT,  /* another constraint failure without detail */
    TQ__DB_READONLY,    /* a write on a read-only connection (a hot standby) */
    TQ__DB_ERROR,       /* anything else */
};

/* The statement ids of the engine; a driver supplies the SQL text of each. */
enum tq__stmt_id {
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
    ST_COLL_LOCK, /* ST_COLL_RESOLVE inside a write, locking the collection row */
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
    ST_PARTNER_UPSERT,
    ST_PARTNER_BY_NAME,
    ST_PARTNER_BY_CERT,
    ST_PARTNER_LIST,
    ST_PARTNER_DELETE,
    ST_PARTNER_PID,
    ST_PARTNER_NAMES,
    ST_GROUP_ADD,
    ST_GROUP_GID,
    ST_GROUP_DELETE,
    ST_GROUP_LIST,
    ST_MEMBER_ADD,
    ST_MEMBER_DELETE,
    ST_GROUP_MEMBERS,
    ST_PARTNER_GROUPS,
    ST_ALL_MEMBERS,
    ST_CPOL_SET,
    ST_CPOL_GET,
    ST_FACTS_INSERT,
    ST_FACTS_UPDATE,
    ST_FACTS_PENDING,
    ST_REL_INSERT,
    ST_REL_BEFORE_ADDED,
    ST_GRANTED,
    ST_REL_DEL_COLL,
    ST_REL_DEL_PARTNER,
    ST_REL_DEL_GROUP,
    ST_REL_REFLAG,
    ST_VERSIONS_COLL,
    ST_COLL_CIDS,
    ST_VINFO_LAST,
    ST_VINFO_AT,
    ST_VINFO_RELEASED,
    ST_MARKING_GET,
    ST_AUDIT_INSERT,
    ST_AUDIT_SIZE,
    ST_AUDIT_LEAVES,
    ST_AUDIT_COMMITMENTS,
    ST_AUDIT_ENTRY,
    ST_CKPT_INSERT,
    ST_CKPT_MAX,
    ST_CKPT_LIST,
    ST_CKPT_GET,
    ST_CKPT_UPDATE,
    ST_AUDIT_FIND,
    ST_AUDIT_PARTNER,
    ST_RECEIPT_PUT,
    ST_RECEIPT_LIST,
    ST_REL_SNAP_CLEAR,
    ST_REL_SNAP_ALL,
    ST_REL_SNAP_COLL,
    ST_REL_SNAP_PARTNER,
    ST_REL_SNAP_GROUP,
    ST_REL_WITHDRAWN,
    ST_REL_ADDED_ALL,
    ST_REL_ADDED_COLL,
    ST_WITNESS_GET,
    ST_WITNESS_SIZE,
    ST_WITNESS_PUT,
    ST_WITNESS_LIST,
    ST_ALARM_ADD,
    ST_ALARM_LIST,
    ST_ALARM_ACK,   /* set acked_by, acked_us where not acknowledged yet */
    ST_ALARM_STATE, /* an alarm's acked_us, to tell a missing alarm from an acknowledged one */
    /* border monitoring (monitor.c) */
    ST_UNIT_PUT,
    ST_UNIT_LIST,
    ST_UNIT_DELETE,
    ST_INCIDENT_PUT,
    ST_INCIDENTS,           /* newest first, walking the (at_us, iid) index */
    ST_INCIDENTS_BBOX,      /* the same, driven by the spatial index (kept for the plan tests) */
    ST_INCIDENTS_BOX_IDS,   /* a box's incidents by time, ids only: the first step of a box */
    ST_INCIDENTS_IDS,       /* the rows of a list of incidents (?18), filtered and ordered */
    ST_INCIDENTS_BOX_COUNT, /* incidents in a box, counted up to a bound (which plan) */
    ST_INC_SUM_CELLS,       /* visible incidents counted per grid cell and kind */
    ST_INC_SUM_HIST,        /* visible incidents counted per time bin */
    ST_READER_ANY,          /* whether a principal may read any collection at all */
    ST_INCIDENTS_ADM1,      /* the same, driven by the (adm1_pcode, at_us) index */
    ST_INCIDENT_PAGE,       /* every row in iid order, for retagging */
    ST_INCIDENT_RETAG,
    ST_INC_GEN_GET,    /* incidents.generation: bumped when rows change other than by appending */
    ST_INC_GEN_BUMP,   /* add one to it, inside the writer's transaction */
    ST_INC_EXISTS,     /* the incident of a version, if kept (a put that replaces bumps) */
    ST_INC_CLOCKS,     /* every collection's key, UUID and date_added clock */
    ST_INC_CACHE_PAGE, /* the in-memory summary's columns of rows after an iid, in iid order */
    ST_INC_SUPERSEDED, /* incidents of versions no longer last since a collection's clock */
    ST_VERSION_EXISTS,
    ST_CORREL_CLEAR,
    ST_CORREL_ADD,
    ST_CORREL_FIND,
    ST_RULE_NEXT_ID,
    ST_RULE_ADD,
    ST_RULE_LIST,
    ST_RULE_DELETE,
    ST_ALERT_NEXT_ID,
    ST_ALERT_ADD,
    ST_ALERT_COLL_ADD,
    ST_ALERTS_ASC,
    ST_ALERTS_DESC,
    ST_ALERT_COLLS,
    ST_ALERT_STATE, /* acked_us of an alert the reader may see */
    ST_ALERT_ACK,
    /* watchlists (watchlist.c) */
    ST_WL_GET,     /* a list's row by name, its key first */
    ST_WL_NEXT_ID, /* the key of a new list: max + 1 */
    ST_WL_INSERT,
    ST_WL_UPDATE,
    ST_WL_LIST,
    ST_WL_DELETE,
    ST_WL_ENTRY_JSONS, /* every entry's ref and JSON, in ref order: the diff of a put */
    ST_WL_ENTRY_PUT,
    ST_WL_ENTRY_DELETE, /* one entry; its names follow by cascade */
    ST_WL_NAME_PUT,
    ST_WL_ENTRIES_PAGE, /* entries after a ref, in ref order */
    ST_WL_NAMES_PAGE,   /* names after (ref, seq), with their entry's columns */
    /* private set intersection: grants and runs (psi.c) */
    ST_PSI_GRANT_PUT, /* insert, or replace modes and limits */
    ST_PSI_GRANT_GET,
    ST_PSI_GRANT_DELETE,
    ST_PSI_GRANT_LIST,
    ST_PSI_RUN_COUNT,   /* runs of (partner, list, role) since a time, refusals not counted */
    ST_PSI_RUN_NEXT_ID, /* the key of a new run: max + 1 */
    ST_PSI_RUN_INSERT,
    ST_PSI_RUN_UPDATE,
    ST_PSI_RUN_LIST, /* the latest runs of a partner ('' for all), newest first */
    /* the dashboard's sessions (web_session.c) */
    ST_WEB_SESSION_PUT,
    ST_WEB_SESSION_GET,   /* by the token's SHA-256 */
    ST_WEB_SESSION_TOUCH, /* last use, only forward */
    ST_WEB_SESSION_DELETE,
    ST_WEB_SESSION_SWEEP, /* every session past its absolute or idle limit */
    /* the dashboard's feed (feed.c) */
    ST_FEED_IN,        /* versions that came from a partner, newest first after a cursor */
    ST_FEED_OUT,       /* versions released to partners, newest first after a cursor */
    ST_FEED_HIST_IN,   /* the first counted per bin and partner */
    ST_FEED_HIST_OUT,  /* the second counted per bin and partner */
    ST_FEED_COUNT_IN,  /* versions that came from one partner */
    ST_FEED_COUNT_OUT, /* versions released to one partner */
    ST__COUNT
};

struct tq__store_driver;

/* The first member of a driver's connection. */
struct tq__db {
    const struct tq__store_driver *drv;
};

/* The first member of a driver's prepared statement. */
struct tq__stmt {
    const struct tq__store_driver *drv;
};

/* Where and how the engine opens a store; the driver reads it and sets nothing but disk_full. */
struct tq__store_target {
    const char *path; /* the driver's own address: a file for SQLite, a URI for PostgreSQL */
    bool read_only;
    unsigned statement_timeout_ms; /* a server's limit per statement (0: the driver's default) */
    unsigned lock_timeout_ms;      /* the longest wait for a lock (0: the driver's default) */
    bool must_exist;
    bool disk_full; /* opened read-only because the disk had no room */
};

/*
 * The fragments of the dynamically built object queries that differ between dialects. Each is
 * spliced verbatim into SQL text built from fixed fragments and "?" placeholders (a driver
 * whose placeholders differ rewrites them in prepare).
 */
struct tq__store_dialect {
    /* Prefix that takes a column out of index selection ("+" for SQLite, "" for none). */
    const char *no_index;
    /* A join whose loop order the planner must keep (" CROSS JOIN " for SQLite). */
    const char *ordered_join;
};

struct tq__store_driver {
    const char *name;              /* "sqlite", "postgres": the prefix of every detail text */
    const char *const *sql;        /* [ST__COUNT]: the text of each statement id */
    const char *const *migrations; /* migrations[v] takes the schema from v to v + 1 */
    const struct tq__store_dialect *dialect; /* fragments of built queries */
    /*
     * Run by the driver on every new (or re-established) connection to a writable store,
     * outside any transaction: the connection's temporary tables (rel_before, the copy of
     * release rows a configuration change is compared with), which a rollback then never drops
     * under the statements prepared against them.
     */
    const char *session_sql;

    /* Before the first connection: create, check or tighten what the target needs. */
    tq_rc (*target_prepare)(const struct tq__store_target *t, struct tq_err *err);
    /* After a failed first connection: whether the target is out of room (open read-only). */
    bool (*target_full)(const struct tq__store_target *t);

    tq_rc (*open)(const struct tq__store_target *t, struct tq__db **out, struct tq_err *err);
    void (*close)(struct tq__db *db); /* NULL is a no-op */

    /*
     * Take (or release) a lock named by key that other processes on the database see and that
     * outlives transactions but not the connection (optional: NULL where the process's own
     * mutex is enough). Taking waits up to the lock timeout (TQ__DB_BUSY).
     */
    enum tq__db_rc (*session_lock)(struct tq__db *db, int key, bool take);
    /* Begin a write: the database's (or at least every collection's) write lock. */
    enum tq__db_rc (*begin_write)(struct tq__db *db);
    enum tq__db_rc (*commit)(struct tq__db *db);
    void (*rollback)(struct tq__db *db); /* no-op outside a transaction */
    /* Run SQL text of one or more statements that return no rows (schema, migrations). */
    enum tq__db_rc (*exec)(struct tq__db *db, const char *sql);
    enum tq__db_rc (*schema_version)(struct tq__db *db, int *version);
    enum tq__db_rc (*schema_version_set)(struct tq__db *db, int version);

    /* Prepare SQL text once; the engine keeps the statement for the connection's life. */
    enum tq__db_rc (*prepare)(struct tq__db *db, const char *sql, struct tq__stmt **out);
    void (*finalize)(struct tq__stmt *st); /* NULL is a no-op */
    void (*reset)(struct tq__stmt *st);    /* to run again; the bindings stay */
    void (*clear_bindings)(struct tq__stmt *st);

    /* Bindings are numbered from 1; the values must outlive the statement's next reset. */
    void (*bind_int64)(struct tq__stmt *st, int i, int64_t v);
    void (*bind_text)(struct tq__stmt *st, int i, const char *s, int len); /* len -1: to NUL */
    void (*bind_blob)(struct tq__stmt *st, int i, const void *p, int len);
    void (*bind_null)(struct tq__stmt *st, int i);
    enum tq__db_rc (*step)(struct tq__stmt *st);

    /* Columns are numbered from 0; pointers are valid until the next step or reset. */
    int64_t (*col_int64)(struct tq__stmt *st, int i);
    const char *(*col_text)(struct tq__stmt *st, int i); /* NULL for SQL NULL */
    const void *(*col_blob)(struct tq__stmt *st, int i);
    int (*col_bytes)(struct tq__stmt *st, int i);
    bool (*col_is_null)(struct tq__stmt *st, int i);

    int64_t (*changes)(struct tq__db *db);        /* rows the last statement changed */
    int64_t (*last_insert_id)(struct tq__db *db); /* key of the last inserted row */
    /* The native code and message of the last failure on db. */
    int (*last_error)(struct tq__db *db, const char **msg);

    /*
     * Optional (NULL: nothing to do). Called by tq_store_copy inside its write transaction on
     * the destination, after every row was written with the keys it had in the source: bring
     * whatever hands out new keys (PostgreSQL's identity sequences) past the keys copied, so
     * that the next row inserted without a key does not collide with a copied one.
     */
    enum tq__db_rc (*copy_finish)(struct tq__db *db);
};

/*
 * Report a failure of a driver call: the driver's classification mapped to a tq_rc (busy ->
 * TQ_EBUSY, out of memory -> TQ_ENOMEM, disk full -> TQ_ENOSPACE, a write on a read-only server
 * -> TQ_EREADONLY, anything else -> TQ_ESTORE),
 * the detail "<driver>: <what>: <message> (code <native code>)" in err. db may be NULL. The one
 * mapping of database failures, in engine.c, for the engine and drivers alike.
 */
tq_rc tq__store_fail(struct tq_err *err, struct tq__db *db, int src, const char *what);

/* Open the store engine on a driver at its target (a path for SQLite); opt is never NULL. */
tq_rc tq__store_engine_open(const struct tq__store_driver *drv, const char *target,
                            const struct tq_store_options *opt, struct tq_store **out,
                            struct tq_err *err);

/* The SQLite driver: primitives in sqlite.c, SQL text in sqlite_sql.c. */
extern const struct tq__store_driver tq__store_sqlite;
extern const char *const tq__store_sqlite_sql[];
extern const char *const tq__store_sqlite_migrations[];
extern const struct tq__store_dialect tq__store_sqlite_dialect;
extern const char tq__store_sqlite_session_sql[];

/* The PostgreSQL driver: primitives in postgres.c, SQL text in postgres_sql.c. */
extern const struct tq__store_driver tq__store_postgres;
extern const char *const tq__store_postgres_sql[];
extern const char *const tq__store_postgres_migrations[];
extern const struct tq__store_dialect tq__store_postgres_dialect;
extern const char tq__store_postgres_session_sql[];

/* ---- calls through a statement's driver, for the engine -------------------------------- */

static inline void tq__db_bind_int64(struct tq__stmt *st, int i, int64_t v)
{
    st->drv->bind_int64(st, i, v);
}

static inline void tq__db_bind_text(struct tq__stmt *st, int i, const char *s, int len)
{
    st->drv->bind_text(st, i, s, len);
}

static inline void tq__db_bind_blob(struct tq__stmt *st, int i, const void *p, int len)
{
    st->drv->bind_blob(st, i, p, len);
}

static inline void tq__db_bind_null(struct tq__stmt *st, int i)
{
    st->drv->bind_null(st, i);
}

static inline void tq__db_reset(struct tq__stmt *st)
{
    st->drv->reset(st);
}

static inline int tq__db_step(struct tq__stmt *st)
{
    return (int)st->drv->step(st);
}

static inline int64_t tq__db_col_int64(struct tq__stmt *st, int i)
{
    return st->drv->col_int64(st, i);
}

static inline const char *tq__db_col_text(struct tq__stmt *st, int i)
{
    return st->drv->col_text(st, i);
}

static inline const void *tq__db_col_blob(struct tq__stmt *st, int i)
{
    return st->drv->col_blob(st, i);
}

static inline int tq__db_col_bytes(struct tq__stmt *st, int i)
{
    return st->drv->col_bytes(st, i);
}

static inline bool tq__db_col_is_null(struct tq__stmt *st, int i)
{
    return st->drv->col_is_null(st, i);
}

static inline int64_t tq__db_changes(struct tq__db *db)
{
    return db->drv->changes(db);
}

static inline int64_t tq__db_last_insert_id(struct tq__db *db)
{
    return db->drv->last_insert_id(db);
}

#endif
