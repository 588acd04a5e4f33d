/* SPDX-License-Identifier: Apache-2.0
 *
 * store/postgres.c - the PostgreSQL driver of the store engine (larger deployments).
 *
 * libpq, one server session per pooled connection. Statements are prepared on the server once
 * per session under names of their own; parameters go as text (integers in decimal, which
 * PostgreSQL reads into bigint and boolean columns alike) except blobs, which go binary, and
 * results come back binary, so integers and hashes are read without parsing or hex decoding.
 * A result is read whole before the first row is returned: the engine runs other statements on
 * the same connection while it walks the rows of one, which libpq's single-row mode forbids,
 * and every statement it walks is bounded by a LIMIT or by one object's versions.
 *
 * The node's write lock is a transaction-level advisory lock (pg_advisory_xact_lock): every
 * writer of every process on the database takes it after BEGIN, so writers run one at a time
 * as on SQLite, and date_added and audit leaf indices are assigned under it. Readers take no
 * lock. Transactions run READ COMMITTED, and a writer reads after taking the lock, so it sees
 * everything committed before it.
 *
 * A session lost outside a transaction (server restart, failover, a network cut) is
 * re-established on the next use and its statements are prepared again; one lost inside a
 * transaction fails that transaction (TQ_EBUSY: the caller may retry it, nothing of it was
 * kept). The server's own SQLSTATE classifies every failure.
 *
 * The URI must not hold a password: it would show in `ps`, in the configuration and in logs.
 * libpq reads it from the file named by passfile= or PGPASSFILE (~/.pgpass by default), and
 * TLS is libpq's own (sslmode=verify-full with sslrootcert= checks the server's name).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/driver.h"
#include "store/store.h"

#if TQ_HAVE_POSTGRES

#include <libpq-fe.h>

/* Type OIDs of the results the engine reads (pg_type.dat). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23

#define STATEMENT_TIMEOUT_MS 60000
#define LOCK_TIMEOUT_MS 10000
#define CONNECT_TIMEOUT_S "10"
/* The node's write lock: pg_advisory_xact_lock(WRITE_LOCK_CLASS, WRITE_LOCK_ID). */
#define WRITE_LOCK_CLASS 0x74716e64 /* "tqnd" */
#define WRITE_LOCK_ID 1
#define MAX_PARAMS 1024
#define DEALLOC_MAX 64

struct pg_db {
    struct tq__db base; /* first: the engine holds &base */
    PGconn *conn;
    const struct tq__store_target *t; /* the engine's, outlives the connection */
    uint64_t gen;                     /* bumped at every (re)connection */
    unsigned next_name;               /* statement names s1, s2, ... of this connection */
    bool in_txn;                      /* last known: a transaction is open */
    int64_t changes;
    int last_code;  /* the last failure's SQLSTATE as five base-36 digits, 0 when none */
    char *last_msg; /* its message, owned */
    char **dealloc; /* names of finalized statements to DEALLOCATE when idle */
    size_t n_dealloc;
};

struct pg_param {
    const char *value; /* NULL: SQL NULL */
    int len;
    int format; /* 0 text, 1 binary */
    char *heap; /* owned copy of text or blob */
    char num[24];
};

struct pg_stmt {
    struct tq__stmt base; /* first: the engine holds &base */
    struct pg_db *db;
    char *sql; /* with $N placeholders */
    char name[16];
    uint64_t gen; /* the connection generation it was prepared in; 0: not yet */
    int n_params;
    struct pg_param *params;
    const char **values;
    int *lengths, *formats;
    PGresult *res;
    int row, n_rows;
    char num[24]; /* an integer column read as text */
};

static struct pg_db *db_of(struct tq__db *db)
{
    return (struct pg_db *)db;
}

static struct pg_stmt *st_of(struct tq__stmt *st)
{
    return (struct pg_stmt *)st;
}

/* ---- failures ------------------------------------------------------------------------- */

/* Classify a SQLSTATE (NULL: the connection failed, no server answer). */
static enum tq__db_rc classify(const char *state)
{
    static const struct {
        const char *state;
        enum tq__db_rc rc;
    } map[] = {
        {"23505", TQ__DB_DUPLICATE},  {"23503", TQ__DB_FOREIGN_KEY}, {"23502", TQ__DB_CONSTRAINT},
        {"23514", TQ__DB_CONSTRAINT}, {"23P01", TQ__DB_CONSTRAINT},  {"P0001", TQ__DB_REFUSED},
        {"25006", TQ__DB_READONLY},   {"53100", TQ__DB_FULL},        {"53200", TQ__DB_NOMEM},
        {"55P03", TQ__DB_BUSY},       {"40001", TQ__DB_BUSY},        {"40P01", TQ__DB_BUSY},
        {"57014", TQ__DB_BUSY},       {"53300", TQ__DB_BUSY},        {"57P01", TQ__DB_BUSY},
        {"57P02", TQ__DB_BUSY},       {"57P03", TQ__DB_BUSY},
    };

    if (!state)
        return TQ__DB_BUSY; /* the session is gone: nothing was kept, the caller may retry */
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(state, map[i].state) == 0)
            return map[i].rc;
    if (strncmp(state, "08", 2) == 0) /* connection exceptions */
        return TQ__DB_BUSY;
    return TQ__DB_ERROR;
}

static void note_state(struct pg_db *d)
{
    PGTransactionStatusType ts = PQtransactionStatus(d->conn);

    if (ts != PQTRANS_UNKNOWN)
        d->in_txn = ts != PQTRANS_IDLE;
}

/* Remember the failure of res (NULL: of the connection) and classify it. */
static enum tq__db_rc fail(struct pg_db *d, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    char *copy;
    size_t len;

    if (!msg || !*msg)
        msg = d->conn ? PQerrorMessage(d->conn) : "no connection";
    copy = tq_xstrdup(msg);
    len = strlen(copy);
    while (len && (copy[len - 1] == '\n' || copy[len - 1] == ' '))
        copy[--len] = '\0';
    tq_free(d->last_msg);
    d->last_msg = copy;
    d->last_code = state ? (int)strtol(state, NULL, 36) : -1;
    if (d->conn)
        note_state(d);
    return classify(state);
}

/* A failure the driver found itself (no server answer to read it from). */
static enum tq__db_rc fail_local(struct pg_db *d, const char *msg, enum tq__db_rc r)
{
    tq_free(d->last_msg);
    d->last_msg = tq_xstrdup(msg);
    d->last_code = -1;
    return r;
}

static int drv_last_error(struct tq__db *db, const char **msg)
{
    struct pg_db *d = db_of(db);

    *msg = d->last_msg ? d->last_msg : "unknown error";
    return d->last_code;
}

/* Run SQL text of commands without rows; OK, or the classified failure. */
static enum tq__db_rc run_text(struct pg_db *d, const char *sql)
{
    PGresult *res = PQexec(d->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    enum tq__db_rc r = TQ__DB_OK;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
        r = fail(d, res);
    else
        note_state(d);
    PQclear(res);
    return r;
}

/* ---- sessions ------------------------------------------------------------------------- */

/* Settings of a new session, and its temporary tables when it may write. */
static enum tq__db_rc session_setup(struct pg_db *d)
{
    char sql[256];
    enum tq__db_rc r;

    snprintf(sql, sizeof(sql),
             "SET statement_timeout = %u; SET lock_timeout = %u; SET TIME ZONE 'UTC';%s",
             d->t->statement_timeout_ms ? d->t->statement_timeout_ms : STATEMENT_TIMEOUT_MS,
             d->t->lock_timeout_ms ? d->t->lock_timeout_ms : LOCK_TIMEOUT_MS,
             d->t->read_only ? " SET default_transaction_read_only = on;" : "");
    r = run_text(d, sql);
    if (r == TQ__DB_OK && !d->t->read_only)
        r = run_text(d, tq__store_postgres.session_sql);
    return r;
}

static void dealloc_clear(struct pg_db *d)
{
    for (size_t i = 0; i < d->n_dealloc; i++)
        tq_free(d->dealloc[i]);
    d->n_dealloc = 0;
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/*
 * Make sure d has a live session: one lost outside a transaction is re-established (its
 * prepared statements are gone with it: gen changes, and each is prepared again on next use).
 */
static enum tq__db_rc session_ensure(struct pg_db *d)
{
    if (PQstatus(d->conn) == CONNECTION_OK)
        return TQ__DB_OK;
    if (d->in_txn)
        return fail_local(d, "the server connection was lost inside a transaction", TQ__DB_BUSY);
    PQreset(d->conn);
    if (PQstatus(d->conn) != CONNECTION_OK)
        return fail(d, NULL);
    d->gen++;
    d->in_txn = false;
    dealloc_clear(d);
    tq_log(TQ_LOG_INFO, "store: postgres: session re-established");
    return session_setup(d);
}

/* DEALLOCATE what the engine finalized, once no transaction is open (never fails it). */
static void dealloc_pending(struct pg_db *d)
{
    char sql[48];

    if (d->in_txn || !d->n_dealloc)
        return;
    for (size_t i = 0; i < d->n_dealloc; i++) {
        snprintf(sql, sizeof(sql), "DEALLOCATE %s", d->dealloc[i]);
        PQclear(PQexec(d->conn, sql));
    }
    dealloc_clear(d);
}

/* ---- open and close ------------------------------------------------------------------- */

static void drv_close(struct tq__db *db)
{
    struct pg_db *d = db_of(db);

    if (!d)
        return;
    PQfinish(d->conn);
    dealloc_clear(d);
    tq_free(d->dealloc);
    tq_free(d->last_msg);
    tq_free(d);
}

/* Refuse a URI that libpq cannot read or that carries a password. */
static tq_rc drv_target_prepare(const struct tq__store_target *t, struct tq_err *err)
{
    PQconninfoOption *opts, *o;
    char *msg = NULL;
    tq_rc rc = TQ_OK;

    opts = PQconninfoParse(t->path, &msg);
    if (!opts) {
        rc = tq_err_set(err, TQ_ECONFIG, "postgres: the store URI is not valid: %s",
                        msg ? msg : "out of memory");
        PQfreemem(msg);
        return rc;
    }
    for (o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
            rc = tq_err_set(err, TQ_ECONFIG,
                            "postgres: the store URI holds a password; put it in a password "
                            "file (passfile= in the URI, or PGPASSFILE) instead");
    PQconninfoFree(opts);
    return rc;
}

static tq_rc drv_open(const struct tq__store_target *t, struct tq__db **out, struct tq_err *err)
{
    /* The URI's own settings override these (expand_dbname: dbname comes last). */
    static const char *const keys[] = {"fallback_application_name", "connect_timeout", "dbname",
                                       NULL};
    const char *values[] = {"tansiq", CONNECT_TIMEOUT_S, t->path, NULL};
    struct pg_db *d = tq_xcalloc(1, sizeof(*d));
    enum tq__db_rc r;
    tq_rc rc;

    d->base.drv = &tq__store_postgres;
    d->t = t;
    d->gen = 1;
    d->dealloc = tq_xcalloc(DEALLOC_MAX, sizeof(*d->dealloc));
    d->conn = PQconnectdbParams(keys, values, 1);
    if (!d->conn) {
        drv_close(&d->base);
        return tq_err_set(err, TQ_ENOMEM, "postgres: out of memory");
    }
    PQsetNoticeProcessor(d->conn, ignore_notice, NULL);
    if (PQstatus(d->conn) != CONNECTION_OK) {
        r = fail(d, NULL);
        rc = tq__store_fail(err, &d->base, r, "connect");
        drv_close(&d->base);
        return rc;
    }
    r = session_setup(d);
    if (r != TQ__DB_OK) {
        rc = tq__store_fail(err, &d->base, r, "configure session");
        drv_close(&d->base);
        return rc;
    }
    *out = &d->base;
    return TQ_OK;
}

/* ---- transactions --------------------------------------------------------------------- */

/* Run a command that opens a transaction, re-establishing a session lost before it. */
static enum tq__db_rc begin(struct pg_db *d, const char *sql)
{
    enum tq__db_rc r = session_ensure(d);

    if (r != TQ__DB_OK)
        return r;
    dealloc_pending(d);
    r = run_text(d, sql);
    if (r == TQ__DB_BUSY && PQstatus(d->conn) != CONNECTION_OK && !d->in_txn) {
        r = session_ensure(d); /* the session died while idle: once more on a new one */
        if (r == TQ__DB_OK)
            r = run_text(d, sql);
    }
    return r;
}

static enum tq__db_rc drv_begin_write(struct tq__db *db)
{
    struct pg_db *d = db_of(db);
    char sql[96];
    enum tq__db_rc r;

    snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%d, %d)", WRITE_LOCK_CLASS,
             WRITE_LOCK_ID);
    r = begin(d, sql);
    if (r != TQ__DB_OK && d->in_txn)
        run_text(d, "ROLLBACK");
    return r;
}

/* A session advisory lock of the node's lock class (the write lock is WRITE_LOCK_ID). */
static enum tq__db_rc drv_session_lock(struct tq__db *db, int key, bool take)
{
    struct pg_db *d = db_of(db);
    char sql[96];
    enum tq__db_rc r;

    if (!take) {
        if (PQstatus(d->conn) != CONNECTION_OK)
            return TQ__DB_OK; /* gone with the session */
        snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%d, %d)", WRITE_LOCK_CLASS, key);
        return run_text(d, sql);
    }
    r = session_ensure(d);
    if (r != TQ__DB_OK)
        return r;
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%d, %d)", WRITE_LOCK_CLASS, key);
    r = run_text(d, sql);
    if (r == TQ__DB_BUSY && PQstatus(d->conn) != CONNECTION_OK) {
        r = session_ensure(d); /* the session died while idle: once more on a new one */
        if (r == TQ__DB_OK)
            r = run_text(d, sql);
    }
    return r;
}

static enum tq__db_rc drv_commit(struct tq__db *db)
{
    struct pg_db *d = db_of(db);
    PGresult *res = PQexec(d->conn, "COMMIT");
    enum tq__db_rc r = TQ__DB_OK;

    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        r = fail(d, res);
    } else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        /* COMMIT of a failed transaction rolls it back and says so. */
        r = fail_local(d, "the transaction had failed and was rolled back", TQ__DB_ERROR);
    }
    PQclear(res);
    note_state(d);
    return r;
}

static void drv_rollback(struct tq__db *db)
{
    struct pg_db *d = db_of(db);

    if (PQstatus(d->conn) == CONNECTION_OK && PQtransactionStatus(d->conn) != PQTRANS_IDLE)
        PQclear(PQexec(d->conn, "ROLLBACK"));
    d->in_txn = false; /* a lost session took its transaction with it */
}

static enum tq__db_rc drv_exec(struct tq__db *db, const char *sql)
{
    struct pg_db *d = db_of(db);
    enum tq__db_rc r = session_ensure(d);

    return r == TQ__DB_OK ? run_text(d, sql) : r;
}

/* The schema version lives in a one-row table; a database without it holds no store (0). */
static enum tq__db_rc drv_schema_version(struct tq__db *db, int *version)
{
    struct pg_db *d = db_of(db);
    enum tq__db_rc r = session_ensure(d);
    PGresult *res;

    if (r != TQ__DB_OK)
        return r;
    /* Two statements: a relation named in a statement must exist when it is parsed. */
    res = PQexec(d->conn, "SELECT to_regclass('tq_schema') IS NOT NULL");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        r = fail(d, res);
    } else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        *version = 0;
    } else {
        PQclear(res);
        res = PQexec(d->conn, "SELECT coalesce(max(v), 0) FROM tq_schema");
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
            r = fail(d, res);
        else
            *version = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    }
    PQclear(res);
    note_state(d);
    return r;
}

static enum tq__db_rc drv_schema_version_set(struct tq__db *db, int version)
{
    char sql[160];

    snprintf(sql, sizeof(sql),
             "CREATE TABLE IF NOT EXISTS tq_schema(v integer NOT NULL);"
             "DELETE FROM tq_schema; INSERT INTO tq_schema(v) VALUES (%d)",
             version);
    return run_text(db_of(db), sql);
}

/* ---- statements ----------------------------------------------------------------------- */

/*
 * The engine's SQL with ?N and ? placeholders as PostgreSQL's $N (a bare ? takes the next
 * number); quoted literals and identifiers are copied as they are. *n_params: the highest N.
 */
static char *placeholders(const char *sql, int *n_params)
{
    size_t len = strlen(sql);
    char *out = tq_xmalloc(len * 8 + 1), *o = out; /* "?" -> "$NNNNNN" at most */
    char quote = 0;
    int next = 0, max = 0;
    long n;

    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            *o++ = *p;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            *o++ = *p;
        } else if (*p == '?') {
            if (p[1] >= '1' && p[1] <= '9') {
                n = strtol(p + 1, (char **)&p, 10);
                p--;
            } else {
                n = ++next;
            }
            if (n < 1 || n > 999999)
                n = 999999; /* refused by the caller (MAX_PARAMS), and still fits below */
            if (n > max)
                max = (int)n;
            o += snprintf(o, 8, "$%ld", n);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    *n_params = max;
    return out;
}

static enum tq__db_rc drv_prepare(struct tq__db *db, const char *sql, struct tq__stmt **out)
{
    struct pg_db *d = db_of(db);
    struct pg_stmt *s;
    int n = 0;
    char *text = placeholders(sql, &n);

    if (n > MAX_PARAMS) {
        tq_free(text);
        return fail_local(d, "too many parameters", TQ__DB_ERROR);
    }
    s = tq_xcalloc(1, sizeof(*s));
    s->base.drv = &tq__store_postgres;
    s->db = d;
    s->sql = text;
    snprintf(s->name, sizeof(s->name), "s%u", ++d->next_name);
    s->n_params = n;
    s->params = tq_xcalloc((size_t)n + 1, sizeof(*s->params));
    s->values = tq_xcalloc((size_t)n + 1, sizeof(*s->values));
    s->lengths = tq_xcalloc((size_t)n + 1, sizeof(*s->lengths));
    s->formats = tq_xcalloc((size_t)n + 1, sizeof(*s->formats));
    *out = &s->base;
    return TQ__DB_OK; /* prepared on the server at first use, in the session of that use */
}

static void param_clear(struct pg_param *p)
{
    tq_free(p->heap);
    memset(p, 0, sizeof(*p));
}

static void drv_reset(struct tq__stmt *st)
{
    struct pg_stmt *s = st_of(st);

    PQclear(s->res);
    s->res = NULL;
    s->row = s->n_rows = 0;
}

static void drv_clear_bindings(struct tq__stmt *st)
{
    struct pg_stmt *s = st_of(st);

    for (int i = 0; i < s->n_params; i++)
        param_clear(&s->params[i]);
}

static void drv_finalize(struct tq__stmt *st)
{
    struct pg_stmt *s = st_of(st);
    struct pg_db *d;

    if (!st)
        return;
    d = s->db;
    drv_reset(st);
    drv_clear_bindings(st);
    /* Named statements live as long as their session: DEALLOCATE, once no transaction is open. */
    if (s->gen == d->gen && PQstatus(d->conn) == CONNECTION_OK) {
        if (d->n_dealloc == DEALLOC_MAX)
            dealloc_pending(d);
        if (d->n_dealloc < DEALLOC_MAX) /* else it lives until the session ends */
            d->dealloc[d->n_dealloc++] = tq_xstrdup(s->name);
    }
    tq_free(s->sql);
    tq_free(s->params);
    tq_free(s->values);
    tq_free(s->lengths);
    tq_free(s->formats);
    tq_free(s);
}

static struct pg_param *param(struct tq__stmt *st, int i)
{
    struct pg_stmt *s = st_of(st);

    if (i < 1 || i > s->n_params)
        return NULL; /* the engine binds only what its SQL holds */
    param_clear(&s->params[i - 1]);
    return &s->params[i - 1];
}

static void drv_bind_int64(struct tq__stmt *st, int i, int64_t v)
{
    struct pg_param *p = param(st, i);

    if (!p)
        return;
    p->len = snprintf(p->num, sizeof(p->num), "%" PRId64, v);
    p->value = p->num;
}

static void drv_bind_text(struct tq__stmt *st, int i, const char *text, int len)
{
    struct pg_param *p = param(st, i);
    size_t n = len < 0 ? strlen(text) : (size_t)len;

    if (!p)
        return;
    p->heap = tq_xstrndup(text, n);
    p->value = p->heap;
    p->len = (int)n;
}

static void drv_bind_blob(struct tq__stmt *st, int i, const void *data, int len)
{
    struct pg_param *p = param(st, i);

    if (!p)
        return;
    p->heap = tq_xmalloc((size_t)len + 1);
    if (len > 0)
        memcpy(p->heap, data, (size_t)len);
    p->value = p->heap;
    p->len = len;
    p->format = 1;
}

static void drv_bind_null(struct tq__stmt *st, int i)
{
    (void)param(st, i);
}

/* Prepare s on the server in the current session, unless it already is. */
static enum tq__db_rc server_prepare(struct pg_stmt *s)
{
    struct pg_db *d = s->db;
    PGresult *res;
    enum tq__db_rc r = TQ__DB_OK;

    if (s->gen == d->gen)
        return TQ__DB_OK;
    res = PQprepare(d->conn, s->name, s->sql, 0, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        r = fail(d, res);
    else
        s->gen = d->gen;
    PQclear(res);
    return r;
}

static enum tq__db_rc execute(struct pg_stmt *s)
{
    struct pg_db *d = s->db;
    ExecStatusType st;
    enum tq__db_rc r;

    r = session_ensure(d);
    if (r != TQ__DB_OK)
        return r;
    dealloc_pending(d);
    r = server_prepare(s);
    if (r != TQ__DB_OK)
        return r;
    for (int i = 0; i < s->n_params; i++) {
        s->values[i] = s->params[i].value;
        s->lengths[i] = s->params[i].len;
        s->formats[i] = s->params[i].format;
    }
    s->res = PQexecPrepared(d->conn, s->name, s->n_params, s->values, s->lengths, s->formats, 1);
    st = PQresultStatus(s->res);
    if (st == PGRES_COMMAND_OK) {
        const char *n = PQcmdTuples(s->res);

        d->changes = *n ? strtoll(n, NULL, 10) : 0;
        note_state(d);
        return TQ__DB_OK;
    }
    if (st == PGRES_TUPLES_OK) {
        s->n_rows = PQntuples(s->res);
        s->row = -1;
        note_state(d);
        return TQ__DB_OK;
    }
    r = fail(d, s->res);
    PQclear(s->res);
    s->res = NULL;
    return r;
}

static enum tq__db_rc drv_step(struct tq__stmt *st)
{
    struct pg_stmt *s = st_of(st);
    bool was_in_txn = s->db->in_txn;
    enum tq__db_rc r;

    if (!s->res) {
        r = execute(s);
        /* A session that died while idle: a statement outside a transaction runs again. */
        if (r == TQ__DB_BUSY && !was_in_txn && PQstatus(s->db->conn) != CONNECTION_OK) {
            s->db->in_txn = false;
            r = execute(s);
        }
        if (r != TQ__DB_OK)
            return r;
    }
    if (s->row + 1 < s->n_rows) {
        s->row++;
        return TQ__DB_ROW;
    }
    s->row = s->n_rows;
    return TQ__DB_DONE;
}

static bool col_ok(struct pg_stmt *s, int i)
{
    return s->res && s->row >= 0 && s->row < s->n_rows && i >= 0 && i < PQnfields(s->res);
}

static bool drv_col_is_null(struct tq__stmt *st, int i)
{
    struct pg_stmt *s = st_of(st);

    return !col_ok(s, i) || PQgetisnull(s->res, s->row, i);
}

/* The width in bytes of a binary integer result (a boolean is one byte), 0 for other types. */
static int int_width(Oid type)
{
    switch (type) {
    case OID_INT8:
        return 8;
    case OID_INT4:
        return 4;
    case OID_INT2:
        return 2;
    case OID_BOOL:
        return 1;
    default:
        return 0;
    }
}

static int64_t drv_col_int64(struct tq__stmt *st, int i)
{
    struct pg_stmt *s = st_of(st);
    const unsigned char *v;
    int len, width;

    if (drv_col_is_null(st, i))
        return 0;
    v = (const unsigned char *)PQgetvalue(s->res, s->row, i);
    len = PQgetlength(s->res, s->row, i);
    width = int_width(PQftype(s->res, i));
    if (width == 1)
        return len == 1 && v[0] != 0;
    if (width > 1) {
        uint64_t u = 0;

        if (len != width)
            return 0;
        for (int k = 0; k < width; k++)
            u = u << 8 | v[k];
        if (width < 8 && (v[0] & 0x80))
            u |= ~(uint64_t)0 << (8 * width); /* sign-extend a shorter integer */
        return (int64_t)u;
    }
    return strtoll((const char *)v, NULL, 10); /* text holding a number */
}

static const char *drv_col_text(struct tq__stmt *st, int i)
{
    struct pg_stmt *s = st_of(st);

    if (drv_col_is_null(st, i))
        return NULL;
    if (int_width(PQftype(s->res, i))) {
        snprintf(s->num, sizeof(s->num), "%" PRId64, drv_col_int64(st, i));
        return s->num;
    }
    return PQgetvalue(s->res, s->row, i); /* libpq ends every value with a NUL */
}

static const void *drv_col_blob(struct tq__stmt *st, int i)
{
    struct pg_stmt *s = st_of(st);

    if (drv_col_is_null(st, i))
        return NULL;
    return PQgetvalue(s->res, s->row, i);
}

static int drv_col_bytes(struct tq__stmt *st, int i)
{
    struct pg_stmt *s = st_of(st);

    if (drv_col_is_null(st, i))
        return 0;
    if (int_width(PQftype(s->res, i)))
        return (int)strlen(drv_col_text(st, i));
    return PQgetlength(s->res, s->row, i);
}

static int64_t drv_changes(struct tq__db *db)
{
    return db_of(db)->changes;
}

/* The key the last insert of this session drew from a sequence (the only caller's case). */
static int64_t drv_last_insert_id(struct tq__db *db)
{
    struct pg_db *d = db_of(db);
    PGresult *res = PQexec(d->conn, "SELECT lastval()");
    int64_t id = 0;

    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    note_state(d);
    return id;
}

/*
 * After a copy wrote keys of its own into the identity columns: move each sequence past the
 * largest key, so that the next row the node adds takes a new one.
 */
static enum tq__db_rc drv_copy_finish(struct tq__db *db)
{
    static const char *const keys[][2] = {{"collections", "cid"},
                                          {"objects", "rid"},
                                          {"partners", "pid"},
                                          {"sharing_groups", "gid"},
                                          {"audit_alarms", "id"}};
    struct pg_db *d = db_of(db);
    enum tq__db_rc r = TQ__DB_OK;
    char sql[256];

    for (size_t i = 0; r == TQ__DB_OK && i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(sql, sizeof(sql),
                 "SELECT setval(pg_get_serial_sequence('%s', '%s'), "
                 "coalesce(max(%s), 0) + 1, false) FROM %s",
                 keys[i][0], keys[i][1], keys[i][1], keys[i][0]);
        r = run_text(d, sql);
    }
    return r;
}

const struct tq__store_driver tq__store_postgres = {
    .name = "postgres",
    .sql = tq__store_postgres_sql,
    .migrations = tq__store_postgres_migrations,
    .dialect = &tq__store_postgres_dialect,
    .session_sql = tq__store_postgres_session_sql,
    .target_prepare = drv_target_prepare,
    .target_full = NULL,
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
    .copy_finish = drv_copy_finish,
};

tq_rc tq__store_postgres_open(const char *uri, const struct tq_store_options *opt,
                              struct tq_store **out, struct tq_err *err)
{
    if (!PQisthreadsafe())
        return tq_err_set(err, TQ_ENOTSUP, "postgres: libpq built without thread support");
    return tq__store_engine_open(&tq__store_postgres, uri, opt, out, err);
}

#else /* !TQ_HAVE_POSTGRES */

tq_rc tq__store_postgres_open(const char *uri, const struct tq_store_options *opt,
                              struct tq_store **out, struct tq_err *err)
{
    (void)uri;
    (void)opt;
    (void)out;
    return tq_err_set(err, TQ_ENOTSUP,
                      "store: the PostgreSQL backend is not built in (build with libpq)");
}

#endif
